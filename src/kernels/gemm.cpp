// Packing of weight matrices into 16-column panels, and the tiled GEMM driver.
#include "kernels/gemm.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "io/tensor.h"
#include "io/tensor_rows.h"
#include "rwkv/error.h"
#include "util/strcat.h"

namespace rwkv {

namespace {

// Tiles have the ISA's shapes (KernelTable::tiles).
constexpr int kBlockRows = 64;   // rows per parallel task
constexpr int kBlockPanels = 8;  // panels per parallel task (128 columns)
// A one-row tile whose A row leaves enough of its weight lines unread sums only its non-zero entries
// (KernelTable::gemm_row_sparse). A 64-byte line of weights holds one k (fp32, int8: a group row) or one k
// pair (bf16), and a line is spared only when all its k are zero. With the weights streamed from memory, as
// in decode, skipping lines at random costs about what the dense tile does when half of them are skipped
// (fp32, bf16) or seven in ten (int8, whose dense tile streams two lines per k where fp32 streams eight);
// with nine zeros in ten the product takes 1/7 (fp32), 1/4 (bf16) or 2/5 (int8) of the dense time
// (BM_GemmZerosInRow). W8A8 rows skip the k quads whose four quantised activations are all zero (a line
// holds one quad of a panel; its dense one-row tile does one dot-product instruction per line, the skipping
// one two): with a third of the quads zero (three quarters of the entries) it took 52-65 us against the dense
// tile's 58-76, with two fifths (80 %) 47-57 against 60-66. The thresholds, in quarters of the row's lines:
// half for fp32 and bf16, three quarters for int8, one quarter for w8a8.
int sparse_row_quarters(WeightPrecision p) {
  return p == WeightPrecision::Int8 ? 3 : p == WeightPrecision::W8A8 ? 1 : 2;
}

}  // namespace

const char* precision_name(WeightPrecision p) {
  switch (p) {
    case WeightPrecision::F32:
      return "fp32";
    case WeightPrecision::BF16:
      return "bf16";
    case WeightPrecision::Int8:
      return "int8";
    case WeightPrecision::W8A8:
      return "w8a8";
  }
  return "?";
}

WeightPrecision parse_precision(const std::string& name, const std::string& what) {
  if (name == "fp32") return WeightPrecision::F32;
  if (name == "bf16") return WeightPrecision::BF16;
  if (name == "int8") return WeightPrecision::Int8;
  if (name == "w8a8") return WeightPrecision::W8A8;
  throw Error(str("unknown ", what, " '", name, "' (expected fp32, bf16, int8 or w8a8)"));
}

namespace {

bool int8_weights(WeightPrecision p) {
  return p == WeightPrecision::Int8 || p == WeightPrecision::W8A8;
}

// Symmetric per-column quantisation of col[0..K) (K values col_step apart) into q[0..K); returns the scale.
float quantize_column(const float* col, std::size_t col_step, int K, std::int8_t* q) {
  float amax = 0.0f;
  for (int k = 0; k < K; ++k) amax = std::max(amax, std::fabs(col[k * col_step]));
  const float scale = amax / 127.0f;
  const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
  for (int k = 0; k < K; ++k) {
    const float v = std::nearbyint(col[k * col_step] * inv);
    q[k] = static_cast<std::int8_t>(std::clamp(v, -127.0f, 127.0f));
  }
  return scale;
}

}  // namespace

PackedMatrix PackedMatrix::from_rows(const float* b, int K, int N, WeightPrecision p) {
  PackedMatrix m;
  m.allocate(K, N, int8_weights(p) ? WeightPrecision::F32 : p);
  for (int k = 0; k < K; ++k) m.set_row_of_b(k, b + static_cast<std::size_t>(k) * N);
  return int8_weights(p) ? quantized_from(m, p) : m;
}

void PackedMatrix::quantize_column_into(int n, const float* col, std::size_t col_step) {
  std::vector<std::int8_t> q(static_cast<std::size_t>(K_));
  scales_[n] = quantize_column(col, col_step, K_, q.data());
  if (precision_ == WeightPrecision::Int8) {
    std::int8_t* dst = i8_.data() + i8_offset(n);
    for (int k = 0; k < K_; ++k) dst[static_cast<std::size_t>(k) * kI8RowBytes] = q[k];
    return;
  }
  std::int8_t* dst = i8_.data() + static_cast<std::size_t>(n / 16) * quads() * 64 + (n % 16) * 4;
  std::int32_t sum = 0;
  for (int k = 0; k < K_; ++k) {
    dst[static_cast<std::size_t>(k / 4) * 64 + k % 4] = q[k];
    sum += q[k];
  }
  colsums_[n] = sum;
}

PackedMatrix PackedMatrix::quantized_from(const PackedMatrix& f32, WeightPrecision p) {
  PackedMatrix m;
  m.allocate(f32.K_, f32.N_, p);
  for (int n = 0; n < f32.N_; ++n) m.quantize_column_into(n, f32.panel(n / 16) + n % 16, 16);
  return m;
}

void PackedMatrix::allocate(int K, int N, WeightPrecision p) {
  K_ = K;
  N_ = N;
  precision_ = p;
  if (p == WeightPrecision::Int8) {
    const int groups = (panels() + kI8GroupPanels - 1) / kI8GroupPanels;
    i8_.assign(static_cast<std::size_t>(groups) * K * kI8RowBytes, 0);
    scales_.assign(static_cast<std::size_t>(panels()) * 16, 0.0f);
    return;
  }
  if (p == WeightPrecision::W8A8) {  // zero padding past K (whole quads) and past N
    if (K > 65536) throw Error(str("w8a8 weights: ", K, " rows (at most 65536: 32-bit integer sums)"));
    i8_.assign(static_cast<std::size_t>(panels()) * quads() * 64, 0);
    scales_.assign(static_cast<std::size_t>(panels()) * 16, 0.0f);
    colsums_.assign(static_cast<std::size_t>(panels()) * 16, 0);
    return;
  }
  if (p == WeightPrecision::BF16) {
    // Zero everything (cheap next to the fp32 path's size): padding columns and the odd-K pad row.
    bf16_.assign(static_cast<std::size_t>(panels()) * k_pairs() * 32, 0);
    return;
  }
  data_.resize(static_cast<std::size_t>(panels()) * K * 16);
  // Zero only the padding columns of the last panel; everything else is written by the packers.
  if (N % 16 != 0) {
    float* last = data_.data() + static_cast<std::size_t>(panels() - 1) * K * 16;
    for (int k = 0; k < K; ++k)
      for (int c = N % 16; c < 16; ++c) last[static_cast<std::size_t>(k) * 16 + c] = 0.0f;
  }
}

void PackedMatrix::set_row_of_b(int k, const float* row) {
  if (precision_ == WeightPrecision::BF16) {
    const std::size_t kp = static_cast<std::size_t>(k_pairs());
    for (int n = 0; n < N_; ++n)
      bf16_[((n / 16) * kp + k / 2) * 32 + (n % 16) * 2 + k % 2] = float_to_bf16(row[n]);
    return;
  }
  for (int n = 0; n < N_; ++n) data_[(static_cast<std::size_t>(n / 16) * K_ + k) * 16 + n % 16] = row[n];
}

void PackedMatrix::set_col_of_b(int n, const float* col) {
  if (int8_weights(precision_)) return quantize_column_into(n, col, 1);
  if (precision_ == WeightPrecision::BF16) {
    std::uint16_t* p = bf16_.data() + static_cast<std::size_t>(n / 16) * k_pairs() * 32 + (n % 16) * 2;
    for (int k = 0; k < K_; ++k) p[static_cast<std::size_t>(k / 2) * 32 + k % 2] = float_to_bf16(col[k]);
    return;
  }
  float* p = data_.data() + static_cast<std::size_t>(n / 16) * K_ * 16 + n % 16;
  for (int k = 0; k < K_; ++k) p[static_cast<std::size_t>(k) * 16] = col[k];
}

static void require_2d(const TensorView& w) {
  if (w.shape.size() != 2 || w.shape[0] <= 0 || w.shape[1] <= 0 || w.shape[0] > (1 << 24) ||
      w.shape[1] > (1 << 24))
    throw Error(str("tensor ", w.name, ": expected a non-empty 2-D matrix"));
}

PackedMatrix PackedMatrix::from_in_out(const TensorView& w, WeightPrecision p) {
  require_2d(w);
  const int K = static_cast<int>(w.shape[0]), N = static_cast<int>(w.shape[1]);
  PackedMatrix m;
  m.allocate(K, N, int8_weights(p) ? WeightPrecision::F32 : p);
  std::vector<float> row(static_cast<std::size_t>(N));
  for (int k = 0; k < K; ++k) {
    tensor_row_to_float(w, k, row.data());
    m.set_row_of_b(k, row.data());
  }
  return int8_weights(p) ? quantized_from(m, p) : m;
}

PackedMatrix PackedMatrix::from_linear(const TensorView& w, WeightPrecision p) {
  require_2d(w);
  const int N = static_cast<int>(w.shape[0]), K = static_cast<int>(w.shape[1]);
  PackedMatrix m;
  m.allocate(K, N, p);
  std::vector<float> row(static_cast<std::size_t>(K));
  for (int n = 0; n < N; ++n) {  // row n of W is column n of B
    tensor_row_to_float(w, n, row.data());
    m.set_col_of_b(n, row.data());
  }
  return m;
}

void gemm(const KernelTable& kt, ThreadPool& pool, int M, const float* A, std::size_t lda,
          const PackedMatrix& B, float* C, std::size_t ldc, GemmScratch* scratch, Epilogue epilogue) {
  const GemmJob job{A, lda, &B, C, ldc, epilogue};
  gemm_many(kt, pool, M, std::span<const GemmJob>(&job, 1), scratch);
}

namespace {

// One job's view for the tile loop: its bf16 copy of A when its weights are bf16.
struct PreparedJob {
  const GemmJob* job;
  const std::uint16_t* a_bf16 = nullptr;  // the job's A_bf16, or `rounded`
  std::uint16_t* rounded = nullptr;       // scratch rows that gemm_many's rounding pass fills from A
  std::size_t ldab = 0;
  std::uint8_t* a_q8 = nullptr;  // W8A8: the quantised rows (stride ldq) and their scales, filled by
  float* a_q8_scales = nullptr;  // gemm_many's quantising pass
  std::size_t ldq = 0;
  int col_blocks = 0;
  std::size_t first_task = 0;
  int sparse_row = -1;       // the row whose one-row tiles sum only the listed entries, if any
  std::vector<int> nonzero;  // that row's non-zero k (bf16: k pairs with a non-zero half)
};

// Marks row m sparse and lists the entries for which is_zero(k) is false when at least
// sparse_row_quarters quarters of the row's `total` entries are zero (each zero entry spares one line of
// weights). Counting first keeps the dense rows (most products in decode) to one vectorisable pass, with
// nothing stored.
template <typename IsZero>
void list_if_sparse(PreparedJob& pj, int m, std::size_t total, IsZero is_zero) {
  std::size_t zeros = 0;
  for (std::size_t k = 0; k < total; ++k) zeros += is_zero(k) ? 1 : 0;
  if (total == 0 || zeros * 4 < total * sparse_row_quarters(pj.job->B->precision())) return;
  for (std::size_t k = 0; k < total; ++k)
    if (!is_zero(k)) pj.nonzero.push_back(static_cast<int>(k));
  pj.sparse_row = m;
}

// The non-zero entries of row m of the job's A (of its bf16 copy, in k pairs, for bf16 weights; of its
// quantised row, in k quads, for W8A8).
void list_nonzero(PreparedJob& pj, int m) {
  const GemmJob& j = *pj.job;
  if (pj.a_q8) {
    const std::uint8_t* row = pj.a_q8 + static_cast<std::size_t>(m) * pj.ldq;
    return list_if_sparse(pj, m, pj.ldq / 4, [row](std::size_t q) {
      std::uint32_t quad;
      std::memcpy(&quad, row + 4 * q, 4);
      return quad == 0x80808080u;  // four zeros (quantised values are offset by 128)
    });
  }
  if (pj.a_bf16) {
    const std::uint16_t* row = pj.a_bf16 + static_cast<std::size_t>(m) * pj.ldab;
    return list_if_sparse(pj, m, static_cast<std::size_t>(j.B->k_pairs()),
                          [row](std::size_t kp) { return ((row[2 * kp] | row[2 * kp + 1]) & 0x7fffu) == 0; });
  }
  const float* row = j.A + static_cast<std::size_t>(m) * j.lda;
  list_if_sparse(pj, m, static_cast<std::size_t>(j.B->K()), [row](std::size_t k) { return row[k] == 0.0f; });
}

// One tile of the job's product, through its epilogue, into C.
void tile(const KernelTable& kt, const PreparedJob& pj, int m, int mr, int p, int np, int n_valid) {
  const GemmJob& j = *pj.job;
  const PackedMatrix& B = *j.B;
  const Epilogue epi = j.epilogue;
  float* c = j.C + static_cast<std::size_t>(m) * j.ldc + static_cast<std::size_t>(p) * 16;
  if (mr == 1 && m == pj.sparse_row) {
    const int nk = static_cast<int>(pj.nonzero.size());
    const int* ks = pj.nonzero.data();
    switch (B.precision()) {
      case WeightPrecision::F32:
        return kt.gemm_row_sparse(np, nk, ks, j.A + static_cast<std::size_t>(m) * j.lda, B.K(), B.panel(p), c,
                                  n_valid, epi);
      case WeightPrecision::BF16:
        return kt.gemm_row_sparse_bf16(np, nk, ks, pj.a_bf16 + static_cast<std::size_t>(m) * pj.ldab,
                                       B.k_pairs(), B.panel_bf16(p), c, n_valid, epi);
      case WeightPrecision::Int8:
        return kt.gemm_row_sparse_i8(np, nk, ks, j.A + static_cast<std::size_t>(m) * j.lda, B.K(),
                                     B.panel_i8(p), B.panel_scales(p), c, n_valid, epi);
      case WeightPrecision::W8A8:
        return kt.gemm_row_sparse_q8(np, nk, ks, pj.a_q8 + static_cast<std::size_t>(m) * pj.ldq, B.quads(),
                                     B.panel_q8(p), B.panel_scales(p), pj.a_q8_scales[m], c, n_valid, epi);
    }
  }
  switch (B.precision()) {
    case WeightPrecision::F32:
      return kt.gemm_tile(mr, np, B.K(), j.A + static_cast<std::size_t>(m) * j.lda, j.lda, B.panel(p), c,
                          j.ldc, n_valid, epi);
    case WeightPrecision::BF16:
      return kt.gemm_tile_bf16(mr, np, B.k_pairs(), pj.a_bf16 + static_cast<std::size_t>(m) * pj.ldab,
                               pj.ldab, B.panel_bf16(p), c, j.ldc, n_valid, epi);
    case WeightPrecision::Int8:
      return kt.gemm_tile_i8(mr, np, B.K(), j.A + static_cast<std::size_t>(m) * j.lda, j.lda, B.panel_i8(p),
                             B.panel_scales(p), c, j.ldc, n_valid, epi);
    case WeightPrecision::W8A8:
      return kt.gemm_tile_q8(mr, np, B.quads(), pj.a_q8 + static_cast<std::size_t>(m) * pj.ldq, pj.ldq,
                             pj.a_q8_scales + m, B.panel_q8(p), B.panel_colsums(p), B.panel_scales(p), c,
                             j.ldc, n_valid, epi);
  }
}

}  // namespace

namespace {

// The A rows a product reads in another form, made once per call for all its jobs in one parallel pass:
// rounded to bf16 for bf16 weights (unless the job brings them rounded), quantised to int8 for W8A8.
void prepare_rows(const KernelTable& kt, ThreadPool& pool, int M, std::vector<PreparedJob>& prepared,
                  GemmScratch& s, std::size_t bf16_elems, std::size_t q8_bytes, std::size_t q8_rows) {
  if (s.a_bf16.size() < bf16_elems) s.a_bf16.resize(bf16_elems);
  if (s.a_q8.size() < q8_bytes) s.a_q8.resize(q8_bytes);
  if (s.a_q8_scales.size() < q8_rows) s.a_q8_scales.resize(q8_rows);
  std::uint16_t* bf16 = s.a_bf16.data();
  std::uint8_t* q8 = s.a_q8.data();
  float* q8_scales = s.a_q8_scales.data();
  for (PreparedJob& pj : prepared) {
    if (pj.ldab && !pj.a_bf16)  // bf16 weights, A not given rounded
      pj.rounded = bf16, pj.a_bf16 = bf16, bf16 += static_cast<std::size_t>(M) * pj.ldab;
    if (pj.ldq)
      pj.a_q8 = q8, pj.a_q8_scales = q8_scales, q8 += static_cast<std::size_t>(M) * pj.ldq, q8_scales += M;
  }
  pool.parallel_for(
      prepared.size() * static_cast<std::size_t>(M), 16, [&](std::size_t b, std::size_t e, int) {
        for (std::size_t i = b; i < e; ++i) {
          const PreparedJob& pj = prepared[i / M];
          if (!pj.rounded && !pj.ldq) continue;  // A may be null (a job that brings its bf16 rows)
          const std::size_t m = i % M;
          const float* a = pj.job->A + m * pj.job->lda;
          if (pj.rounded)
            kt.to_bf16(a, pj.rounded + m * pj.ldab, pj.job->B->K(), static_cast<int>(pj.ldab));
          else
            pj.a_q8_scales[m] =
                kt.quantize_row_q8(a, pj.job->B->K(), pj.a_q8 + m * pj.ldq, static_cast<int>(pj.ldq));
        }
      });
}

}  // namespace

void gemm_many(const KernelTable& kt, ThreadPool& pool, int M, std::span<const GemmJob> jobs,
               GemmScratch* scratch) {
  if (M <= 0 || jobs.empty()) return;
  const int row_blocks = (M + kBlockRows - 1) / kBlockRows;
  std::vector<PreparedJob> prepared;
  prepared.reserve(jobs.size());
  std::size_t tasks = 0, bf16_elems = 0, q8_bytes = 0, q8_rows = 0;
  double flops = 0;
  for (const GemmJob& j : jobs) {
    if (j.B->N() == 0) continue;
    PreparedJob pj{&j};
    pj.col_blocks = (j.B->panels() + kBlockPanels - 1) / kBlockPanels;
    pj.first_task = tasks;
    tasks += static_cast<std::size_t>(row_blocks) * pj.col_blocks;
    if (j.B->precision() == WeightPrecision::BF16) {
      if (j.A_bf16) {
        if (j.lda_bf16 < static_cast<std::size_t>(j.B->k_pairs()) * 2)
          throw Error(str("gemm: bf16 A rows of ", j.lda_bf16, " entries for ", j.B->K(), " weight rows"));
        pj.a_bf16 = j.A_bf16;
        pj.ldab = j.lda_bf16;
      } else {
        pj.ldab = static_cast<std::size_t>(j.B->k_pairs()) * 2;
        bf16_elems += static_cast<std::size_t>(M) * pj.ldab;
      }
    } else if (!j.A) {
      throw Error("gemm: a product with fp32 or int8 weights needs its fp32 A");
    } else if (j.B->precision() == WeightPrecision::W8A8) {
      pj.ldq = static_cast<std::size_t>(j.B->quads()) * 4;
      q8_bytes += static_cast<std::size_t>(M) * pj.ldq;
      q8_rows += static_cast<std::size_t>(M);
    }
    flops += double(M) * j.B->K() * j.B->N();
    prepared.push_back(pj);
  }
  if (prepared.empty()) return;
  GemmScratch own;  // outlives the tile loop, which reads the rounded and quantised rows
  if (bf16_elems > 0 || q8_bytes > 0)
    prepare_rows(kt, pool, M, prepared, scratch ? *scratch : own, bf16_elems, q8_bytes, q8_rows);
  const TileShape shape = kt.tiles;
  if ((M - 1) % shape.rows == 0)  // the last row is a one-row tile (decode: the only row)
    for (PreparedJob& pj : prepared) list_nonzero(pj, M - 1);
  auto run_task = [&](std::size_t task, int) {
    // Tasks are numbered job by job; find this task's job (a handful of jobs: a short scan).
    std::size_t ji = 0;
    while (ji + 1 < prepared.size() && prepared[ji + 1].first_task <= task) ++ji;
    const PreparedJob& pj = prepared[ji];
    const PackedMatrix& B = *pj.job->B;
    // Within a job, tasks run column block by column block, all row blocks of one column block in a row:
    // the pool hands each thread a contiguous share, so each thread reads its columns' weights from
    // memory once per call and the following row blocks find them in cache (row block by row block,
    // every thread re-read every column block once per row block it took).
    const std::size_t local = task - pj.first_task;
    const int rb = static_cast<int>(local) % row_blocks, cb = static_cast<int>(local) / row_blocks;
    const int m_end = std::min(M, (rb + 1) * kBlockRows);
    const int p_end = std::min(B.panels(), (cb + 1) * kBlockPanels);
    // A trailing tile of one or two rows runs with wide tiles (TileShape::wide_panels).
    const int m_begin = rb * kBlockRows;
    const int last_tile = m_begin + (m_end - m_begin - 1) / shape.rows * shape.rows;
    const int m_small = m_end - last_tile <= 2 ? last_tile : m_end;
    for (int p = cb * kBlockPanels; p < p_end && m_begin < m_small; p += shape.panels) {
      const int np = std::min(shape.panels, p_end - p);
      const int n_valid = std::min(np * 16, B.N() - p * 16);
      for (int m = m_begin; m < m_small; m += shape.rows)
        tile(kt, pj, m, std::min(shape.rows, m_small - m), p, np, n_valid);
    }
    if (m_small < m_end) {
      const int mr = m_end - m_small, wide = std::max(1, shape.wide_panels / mr);
      for (int p = cb * kBlockPanels, np = 0; p < p_end; p += np) {
        np = std::min(wide, p_end - p);
        np = np >= 8 ? 8 : np >= 4 ? 4 : np >= 2 ? 2 : 1;  // the widths the micro-kernels have
        tile(kt, pj, m_small, mr, p, np, std::min(np * 16, B.N() - p * 16));
      }
    }
  };
  if (tasks == 1 || flops < 32 * 1024) {
    for (std::size_t t = 0; t < tasks; ++t) run_task(t, 0);
  } else {
    pool.run_tasks(tasks, run_task);
  }
}

}  // namespace rwkv
