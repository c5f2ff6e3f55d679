-- wrk script for bench/server_load.sh: POST /v1/embeddings with one short text per request (search-query
-- sized: 3 to 12 tokens with the EOS), rotating over a fixed list; done() prints one JSON line with
-- requests/s and the latency percentiles.
local texts = {
  "what is RWKV?",
  "Hello world",
  "best pizza near the station",
  "how do I reset my password",
  "RWKV is an RNN with transformer-level quality",
  "capital of France",
  "linear attention vs softmax attention",
  "cheap flights to Tokyo in March",
}
local next_text = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  next_text = next_text % #texts + 1
  return wrk.format(nil, nil, nil, '{"input": "' .. texts[next_text] .. '"}')
end

done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.2f, "requests_per_s": %.1f, "p50_ms": %.2f, "p90_ms": %.2f, ' ..
    '"p99_ms": %.2f, "max_ms": %.2f, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, ' ..
    '"timeout": %d}}\n',
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000, e.connect, e.read,
    e.write, e.status, e.timeout))
end
