// The native half of @logkit/core's wire module: the loops the collector runs
// over every byte of every entry, in C++, called once per batch (not per
// entry: a call costs more than an entry's work).
//
// index(buf, start, end, checkCrc, maxFrameSize, entries, entryCap, frames, frameCap, state) -> status
//   EntryIndex.add (packages/core/src/wire/entry-index.ts) over buf[start, end),
//   writing the same columns. Those live in two ArrayBuffers laid out as the
//   comment above ENTRY_BLOCK_BYTES_PER_ROW in entry-index.ts says (and as the
//   Entries / Frames structs below read them). state (Float64Array) carries
//   entries, frames, invalidEntries, malformedFrames in and out, and `end`
//   and the stop code out. A frame that would overflow the columns is not
//   indexed: status NEED_ENTRIES / NEED_FRAMES, `end` at its first byte,
//   the counts as before it; the caller grows the columns and calls again.
// render(entries, entryCap, count, buf, out, from, to, selection, identityKey, identity, state) -> status
//   JsonRenderer's lines (json-render.ts) for the rows from … to-1 (or the
//   rows selection[from … to-1]) into out at state[POS]. Every line it cannot
//   write exactly as the TypeScript does (a number above 2^53, bytes that are
//   not UTF-8, fields that are not one object) it leaves to the caller:
//   status SLOW at that row, nothing of it written. The identity cache
//   (identityKey / identity buffers, lengths in state) is shared with the
//   TypeScript renderer, so the two can alternate line by line.
// findField(entries, entryCap, count, buf, rows, n, keys, out)
//   For rows[0 … n-1], the value at the path `keys` (each key's UTF-8) in the
//   row's fields as Fields#get finds it after JSON.parse (the last of
//   duplicate keys, own members only): out[2k], out[2k+1] = its byte span;
//   out[2k] = -1 when there is none, -2 when only the TypeScript can say
//   (fields the line's check refuses or that are not UTF-8, a path through
//   an array).
// crc32(buf, start, end) -> number   the CRC-32 index() checks, for tests.
// configure(keys)                     checks that LINE_KEYS are the keys it writes.
//
// Every call matches the TypeScript byte for byte and bit for bit: varints are
// summed as the same doubles, every read is bounded by the frame and the
// entry, and nothing here trusts a length before checking it. The TypeScript
// stays the reference (tests run both over random and hostile frames).

#include <node_api.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <cmath>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>

namespace {

// ---- the frame (framing.ts, tags.ts) ----

constexpr uint8_t kMagic0 = 0x4c;
constexpr uint8_t kMagic1 = 0x4b;
constexpr uint8_t kVersion = 1;
constexpr int64_t kHeaderSize = 12;
constexpr int64_t kLengthOffset = 4;
constexpr int64_t kCrcOffset = 8;

constexpr int kWireVarint = 0;
constexpr int kWireFixed64 = 1;
constexpr int kWireLen = 2;
constexpr int kWireFixed32 = 5;

constexpr uint32_t kFrameBatch = 0x0a;
constexpr uint32_t kFrameHello = 0x12;
constexpr uint32_t kFrameHeartbeat = 0x1a;
constexpr uint32_t kFrameGoodbye = 0x22;
constexpr uint32_t kBatchEntry = 0x0a;
constexpr uint32_t kBatchDropped = 0x10;
constexpr uint32_t kEntryTime = 0x09;
constexpr uint32_t kEntryLevel = 0x10;
constexpr uint32_t kEntrySeverity = 0x18;
constexpr uint32_t kEntryMessage = 0x22;
constexpr uint32_t kEntryApp = 0x2a;
constexpr uint32_t kEntrySource = 0x32;
constexpr uint32_t kEntryPid = 0x38;
constexpr uint32_t kEntryHostname = 0x42;
constexpr uint32_t kEntrySeq = 0x48;
constexpr uint32_t kEntryFields = 0x52;
constexpr uint32_t kEntryTraceId = 0x5a;
constexpr uint32_t kEntrySpanId = 0x62;
/** A tag no field has: what readTag gives for a value that does not fit 32 bits. */
constexpr uint32_t kNoTag = 0xffffffffu;

// ---- the index's columns (entry-index.ts) ----

constexpr int kSpanMessage = 0;
constexpr int kSpanApp = 2;
constexpr int kSpanSource = 4;
constexpr int kSpanHostname = 6;
constexpr int kSpanFields = 8;
constexpr int kSpanTraceId = 10;
constexpr int kSpanSpanId = 12;
constexpr int kSpanEntry = 14;
constexpr int kSpanStride = 16;

constexpr uint8_t kFrameMalformed = 1;

// Stop codes of index(), in IndexStop's order: 'end', 'partial', 'bad-header', 'corrupt'.
constexpr double kStopEnd = 0;
constexpr double kStopPartial = 1;
constexpr double kStopBadHeader = 2;
constexpr double kStopCorrupt = 3;

// index() statuses.
constexpr int kIndexed = 0;
constexpr int kNeedEntries = 1;
constexpr int kNeedFrames = 2;

// index() state slots.
constexpr int kStateEntries = 0;
constexpr int kStateFrames = 1;
constexpr int kStateInvalid = 2;
constexpr int kStateMalformed = 3;
constexpr int kStateEnd = 4;
constexpr int kStateStop = 5;

/** The entry columns in one block, for capacity n: see entryBlockLayout in entry-index.ts. */
struct Entries {
  double* level;
  double* pid;
  double* seq;
  uint32_t* timeHi;
  uint32_t* timeLo;
  uint32_t* spans;
  uint32_t* entryFrame;
  uint8_t* valid;
  int64_t capacity;

  Entries(uint8_t* base, int64_t n)
      : level(reinterpret_cast<double*>(base)),
        pid(reinterpret_cast<double*>(base + 8 * n)),
        seq(reinterpret_cast<double*>(base + 16 * n)),
        timeHi(reinterpret_cast<uint32_t*>(base + 24 * n)),
        timeLo(reinterpret_cast<uint32_t*>(base + 28 * n)),
        spans(reinterpret_cast<uint32_t*>(base + 32 * n)),
        entryFrame(reinterpret_cast<uint32_t*>(base + 96 * n)),
        valid(base + 100 * n),
        capacity(n) {}
  static constexpr int64_t kBytesPerRow = 101;
};

/** The frame columns in one block, for capacity m: see frameBlockLayout in entry-index.ts. */
struct Frames {
  double* dropped;
  uint32_t* start;
  uint32_t* end;
  uint32_t* firstEntry;
  uint32_t* entryCount;
  uint8_t* kind;
  uint8_t* flags;
  int64_t capacity;

  Frames(uint8_t* base, int64_t m)
      : dropped(reinterpret_cast<double*>(base)),
        start(reinterpret_cast<uint32_t*>(base + 8 * m)),
        end(reinterpret_cast<uint32_t*>(base + 12 * m)),
        firstEntry(reinterpret_cast<uint32_t*>(base + 16 * m)),
        entryCount(reinterpret_cast<uint32_t*>(base + 20 * m)),
        kind(base + 24 * m),
        flags(base + 25 * m),
        capacity(m) {}
  static constexpr int64_t kBytesPerRow = 26;
};

// ---- CRC-32 (zlib's polynomial) ----

uint32_t crcTable[8][256];

void setUpCrc() {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crcTable[0][n] = c;
  }
  for (int k = 1; k < 8; k++)
    for (int n = 0; n < 256; n++) crcTable[k][n] = crcTable[0][crcTable[k - 1][n] & 255] ^ (crcTable[k - 1][n] >> 8);
}

/** The running CRC c (not yet inverted) over p[0, n), slicing by 8. */
uint32_t tableCrc(uint32_t c, const uint8_t* p, size_t n) {
  while (n >= 8) {
    uint32_t a = c ^ (p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24));
    c = crcTable[7][a & 255] ^ crcTable[6][(a >> 8) & 255] ^ crcTable[5][(a >> 16) & 255] ^
        crcTable[4][a >> 24] ^ crcTable[3][p[4]] ^ crcTable[2][p[5]] ^ crcTable[1][p[6]] ^
        crcTable[0][p[7]];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = crcTable[0][(c ^ *p++) & 255] ^ (c >> 8);
  return c;
}

#if defined(__x86_64__)
/**
 * The running CRC c over p[0, n) (n a multiple of 16, at least 16) by folding
 * with carry-less multiplication, as Intel's "Fast CRC Computation for
 * Generic Polynomials Using PCLMULQDQ" describes for a bit-reflected CRC: each
 * 16-byte block is folded into the next by multiplying its halves by x^(128+32)
 * and x^(128-32) mod P, then 128 bits are reduced to 64, to 32, and to the CRC
 * by a Barrett reduction. Fold by one block at a time: frames are short.
 */
__attribute__((target("pclmul,sse4.1"))) uint32_t foldCrc(uint32_t c, const uint8_t* p, size_t n) {
  const __m128i fold = _mm_set_epi64x(0x0ccaa009eLL, 0x1751997d0LL);    // x^(128-32), x^(128+32) mod P
  const __m128i to32 = _mm_set_epi64x(0, 0x163cd6124LL);                // x^64 mod P
  const __m128i barrett = _mm_set_epi64x(0x1f7011641LL, 0x1db710641LL);  // floor(x^64 / P), P
  const __m128i low32 = _mm_set_epi32(0, 0, 0, -1);
  __m128i x = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), _mm_cvtsi32_si128(static_cast<int>(c)));
  for (size_t k = 16; k < n; k += 16) {
    const __m128i low = _mm_clmulepi64_si128(x, fold, 0x00);
    const __m128i high = _mm_clmulepi64_si128(x, fold, 0x11);
    x = _mm_xor_si128(_mm_xor_si128(low, high), _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k)));
  }
  x = _mm_xor_si128(_mm_clmulepi64_si128(x, fold, 0x10), _mm_srli_si128(x, 8));
  x = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x, low32), to32, 0x00), _mm_srli_si128(x, 4));
  __m128i t = _mm_clmulepi64_si128(_mm_and_si128(x, low32), barrett, 0x10);
  t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), barrett, 0x00);
  return static_cast<uint32_t>(_mm_extract_epi32(_mm_xor_si128(t, x), 1));
}

const bool hasClmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
#endif

/** CRC-32 of p[0, n): whole 16-byte blocks folded where the CPU multiplies carry-less, the rest by table. */
uint32_t crc32Of(const uint8_t* p, size_t n) {
  uint32_t c = 0xffffffffu;
#if defined(__x86_64__)
  if (hasClmul && n >= 16) {
    const size_t blocks = n & ~static_cast<size_t>(15);
    c = foldCrc(c, p, blocks);
    p += blocks;
    n -= blocks;
  }
#endif
  return ~tableCrc(c, p, n);
}

/** A little-endian uint32 whatever the host (one load where it is little-endian). */
inline uint32_t wordLE(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}

/** The frame hash of p[0, n), as frame-check.ts computes it. */
uint32_t frameHashOf(const uint8_t* p, size_t n) {
  uint32_t h1 = static_cast<uint32_t>(n) ^ 0x811c9dc5u;
  uint32_t h2 = 0x2545f491u;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    h1 = (h1 ^ wordLE(p + i)) * 0x9e3779b1u;
    h2 = (h2 ^ wordLE(p + i + 4)) * 0x85ebca77u;
  }
  // At most one whole word left (lane 1), then the zero-padded rest (the next lane).
  bool odd = false;
  if (i + 4 <= n) {
    h1 = (h1 ^ wordLE(p + i)) * 0x9e3779b1u;
    i += 4;
    odd = true;
  }
  if (i < n) {
    uint32_t w = 0;
    for (int k = 0; i < n; k += 8) w |= static_cast<uint32_t>(p[i++]) << k;
    if (odd)
      h2 = (h2 ^ w) * 0x85ebca77u;
    else
      h1 = (h1 ^ w) * 0x9e3779b1u;
  }
  return h1 ^ (h2 * 0xc2b2ae3du);
}

constexpr uint8_t kFlagHash = 0x01;

/** Whether a payload matches its header's check under the header's flags (unknown flags never match). */
bool frameCheckMatches(uint8_t flags, const uint8_t* p, size_t n, uint32_t check) {
  if (flags == 0) return crc32Of(p, n) == check;
  if (flags == kFlagHash) return frameHashOf(p, n) == check;
  return false;
}

// ---- protobuf, read as entry-index.ts reads it ----

/** The position after the varint at p, or -1 when `limit` cuts it or it is longer than 10 bytes. */
inline int64_t varintEnd(const uint8_t* b, int64_t p, int64_t limit) {
  const int64_t max = p + 10 < limit ? p + 10 : limit;
  for (int64_t q = p; q < max; q++)
    if (b[q] < 0x80) return q + 1;
  return -1;
}

/** The varint b[p, end) as the TypeScript sums it: the same doubles, exact below 2^53. */
inline double varintValue(const uint8_t* b, int64_t p, int64_t end) {
  if (end - p <= 7) {  // at most 49 bits: exact in an integer, and so in the double
    uint64_t v = 0;
    for (int64_t q = end - 1; q >= p; q--) v = (v << 7) | (b[q] & 127);
    return static_cast<double>(v);
  }
  double value = 0;
  double scale = 1;
  for (int64_t q = p; q < end; q++) {
    value += (b[q] & 127) * scale;
    scale *= 128;
  }
  return value;
}

/** `tag & 7` of the TypeScript: the integer value's low three bits (fmod is exact). */
inline int wireOf(double tag) {
  return tag < 4294967296.0 ? static_cast<int>(static_cast<uint64_t>(tag) & 7) : static_cast<int>(std::fmod(tag, 8.0));
}

/**
 * The tag at b[p] (p < end) into *tag and its wire type into *wire, as the
 * TypeScript reads them (a tag is compared by value, so a longer encoding of
 * a small value is that value); returns the position after it, or -1.
 */
inline int64_t readTag(const uint8_t* b, int64_t p, int64_t end, uint32_t* tag, int* wire) {
  if (b[p] < 0x80) {
    *tag = b[p];
    *wire = b[p] & 7;
    return p + 1;
  }
  const int64_t t = varintEnd(b, p, end);
  if (t < 0) return -1;
  const double v = varintValue(b, p, t);
  *wire = wireOf(v);
  *tag = v < kNoTag ? static_cast<uint32_t>(v) : kNoTag;
  return t;
}

inline uint32_t uint32At(const uint8_t* b, int64_t p) {
  return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (static_cast<uint32_t>(b[p + 3]) << 24);
}

int64_t skipField(const uint8_t* b, int64_t p, int64_t limit, int wire) {
  if (wire == kWireVarint) return varintEnd(b, p, limit);
  if (wire == kWireFixed64) return p + 8 <= limit ? p + 8 : -1;
  if (wire == kWireFixed32) return p + 4 <= limit ? p + 4 : -1;
  if (wire == kWireLen) {
    const int64_t q = varintEnd(b, p, limit);
    if (q < 0) return -1;
    const double next = q + varintValue(b, p, q);
    return next <= limit ? static_cast<int64_t>(next) : -1;
  }
  return -1;
}

bool wellFormedFields(const uint8_t* b, int64_t p, int64_t limit) {
  int64_t q = p;
  while (q < limit) {
    const int64_t t = varintEnd(b, q, limit);
    if (t < 0) return false;
    q = skipField(b, t, limit, wireOf(varintValue(b, q, t)));
    if (q < 0) return false;
  }
  return true;
}

inline double severityToLevel(double severity) {
  if (severity <= 0) return 0;
  if (severity >= 21) return 60;
  return 10 + std::floor((severity - 1) / 4) * 10;
}

class Indexer {
 public:
  Indexer(const uint8_t* buf, Entries entries, Frames frames, double* state)
      : b_(buf),
        e_(entries),
        f_(frames),
        entries_(static_cast<int64_t>(state[kStateEntries])),
        frames_(static_cast<int64_t>(state[kStateFrames])),
        invalid_(state[kStateInvalid]),
        malformed_(state[kStateMalformed]) {}

  int add(int64_t start, int64_t limit, bool checkCrc, double maxFrameSize, double* state) {
    int64_t p = start;
    double stop = kStopEnd;
    int status = kIndexed;
    while (p < limit) {
      if (limit - p < kHeaderSize) {
        stop = kStopPartial;
        break;
      }
      if (b_[p] != kMagic0 || b_[p + 1] != kMagic1 || b_[p + 2] != kVersion) {
        stop = kStopBadHeader;
        break;
      }
      const int64_t length = uint32At(b_, p + kLengthOffset);
      if (length > maxFrameSize) {
        stop = kStopBadHeader;
        break;
      }
      const int64_t frameEnd = p + kHeaderSize + length;
      if (frameEnd > limit) {
        stop = kStopPartial;
        break;
      }
      if (checkCrc && !frameCheckMatches(b_[p + 3], b_ + p + kHeaderSize, length, uint32At(b_, p + kCrcOffset))) {
        stop = kStopCorrupt;
        break;
      }
      if (frames_ == f_.capacity) {
        status = kNeedFrames;
        break;
      }
      const int64_t entriesBefore = entries_;
      const double invalidBefore = invalid_;
      const double malformedBefore = malformed_;
      if (!frame(p, frameEnd)) {
        // The entry columns filled up inside this frame: leave it for the next call.
        entries_ = entriesBefore;
        invalid_ = invalidBefore;
        malformed_ = malformedBefore;
        frames_--;
        status = kNeedEntries;
        break;
      }
      p = frameEnd;
    }
    state[kStateEntries] = static_cast<double>(entries_);
    state[kStateFrames] = static_cast<double>(frames_);
    state[kStateInvalid] = invalid_;
    state[kStateMalformed] = malformed_;
    state[kStateEnd] = static_cast<double>(p);
    state[kStateStop] = stop;
    return status;
  }

 private:
  /** One frame at b[start, end), its header checked; false when the entry columns are full. */
  bool frame(int64_t start, int64_t end) {
    const int64_t f = frames_++;
    f_.start[f] = static_cast<uint32_t>(start);
    f_.end[f] = static_cast<uint32_t>(end);
    f_.firstEntry[f] = static_cast<uint32_t>(entries_);
    f_.entryCount[f] = 0;
    f_.dropped[f] = 0;
    f_.flags[f] = 0;
    int kind = 0;
    bool ok = true;
    int64_t p = start + kHeaderSize;
    while (p < end) {
      uint32_t tag;
      int wire;
      const int64_t t = readTag(b_, p, end, &tag, &wire);
      if (t < 0) {
        ok = false;
        break;
      }
      if (tag != kFrameBatch && tag != kFrameHello && tag != kFrameHeartbeat && tag != kFrameGoodbye) {
        p = skipField(b_, t, end, wire);
        if (p < 0) {
          ok = false;
          break;
        }
        continue;
      }
      const int64_t l = varintEnd(b_, t, end);
      const double bodyEnd = l < 0 ? -1 : l + varintValue(b_, t, l);
      if (l < 0 || bodyEnd > end) {
        ok = false;
        break;
      }
      takeBack(f);
      kind = static_cast<int>(tag >> 3);
      if (tag == kFrameBatch) {
        const int result = batch(f, l, static_cast<int64_t>(bodyEnd));
        if (result < 0) return false;
        ok = result == 1;
      } else {
        ok = wellFormedFields(b_, l, static_cast<int64_t>(bodyEnd));
      }
      if (!ok) break;
      p = static_cast<int64_t>(bodyEnd);
    }
    f_.kind[f] = static_cast<uint8_t>(kind);
    f_.entryCount[f] = static_cast<uint32_t>(entries_ - f_.firstEntry[f]);
    if (ok && f_.flags[f] == 0) return true;
    f_.flags[f] = kFrameMalformed;
    malformed_++;
    return true;
  }

  void takeBack(int64_t f) {
    const int64_t first = f_.firstEntry[f];
    for (int64_t i = first; i < entries_; i++)
      if (e_.valid[i] == 0) invalid_--;
    entries_ = first;
    f_.dropped[f] = 0;
  }

  /** A Batch at b[start, end): 1 when well-formed, 0 when its structure breaks, -1 when the columns are full. */
  int batch(int64_t f, int64_t start, int64_t end) {
    int64_t p = start;
    while (p < end) {
      uint32_t tag;
      int wire;
      const int64_t t = readTag(b_, p, end, &tag, &wire);
      if (t < 0) return 0;
      if (tag == kBatchEntry) {
        const int64_t l = varintEnd(b_, t, end);
        if (l < 0) return 0;
        const double entryEnd = l + varintValue(b_, t, l);
        if (entryEnd > end) return 0;
        if (entries_ == e_.capacity) return -1;
        if (!entry(f, l, static_cast<int64_t>(entryEnd))) f_.flags[f] = kFrameMalformed;
        p = static_cast<int64_t>(entryEnd);
      } else if (tag == kBatchDropped) {
        p = varintEnd(b_, t, end);
        if (p < 0) return 0;
        f_.dropped[f] = varintValue(b_, t, p);
      } else {
        p = skipField(b_, t, end, wire);
        if (p < 0) return 0;
      }
    }
    return 1;
  }

  /** One LogEntry at b[start, end) into the next row; false (the row marked invalid) when malformed. */
  bool entry(int64_t f, int64_t start, int64_t end) {
    const int64_t i = entries_++;
    const uint8_t* b = b_;
    double level = 0, severity = 0, pid = 0, seq = 0;
    uint32_t hi = 0, lo = 0;
    uint32_t span[kSpanEntry] = {0};
    bool ok = true;
    int64_t p = start;
    while (p < end) {
      uint32_t tag;
      int wire;
      p = readTag(b, p, end, &tag, &wire);
      if (p < 0) {
        ok = false;
        break;
      }
      if (wire == kWireLen) {
        int64_t s;
        double length;
        if (p < end && b[p] < 0x80) {
          length = b[p];
          s = p + 1;
        } else {
          s = varintEnd(b, p, end);
          if (s < 0) {
            ok = false;
            break;
          }
          length = varintValue(b, p, s);
        }
        if (length > static_cast<double>(end - s)) {
          ok = false;
          break;
        }
        p = s + static_cast<int64_t>(length);
        int slot;
        switch (tag) {
          case kEntryMessage: slot = kSpanMessage; break;
          case kEntryApp: slot = kSpanApp; break;
          case kEntrySource: slot = kSpanSource; break;
          case kEntryHostname: slot = kSpanHostname; break;
          case kEntryFields: slot = kSpanFields; break;
          case kEntryTraceId: slot = kSpanTraceId; break;
          case kEntrySpanId: slot = kSpanSpanId; break;
          default: slot = -1;
        }
        if (slot >= 0) {
          span[slot] = static_cast<uint32_t>(s);
          span[slot + 1] = static_cast<uint32_t>(p);
        }
      } else if (wire == kWireVarint) {
        double value;
        if (p < end && b[p] < 0x80) {
          value = b[p++];
        } else {
          const int64_t e = varintEnd(b, p, end);
          if (e < 0) {
            ok = false;
            break;
          }
          value = varintValue(b, p, e);
          p = e;
        }
        if (tag == kEntryLevel) level = value;
        else if (tag == kEntrySeverity) severity = value;
        else if (tag == kEntryPid) pid = value;
        else if (tag == kEntrySeq) seq = value;
      } else if (wire == kWireFixed64) {
        if (p + 8 > end) {
          ok = false;
          break;
        }
        if (tag == kEntryTime) {
          lo = uint32At(b, p);
          hi = uint32At(b, p + 4);
        }
        p += 8;
      } else if (wire == kWireFixed32) {
        if (p + 4 > end) {
          ok = false;
          break;
        }
        p += 4;
      } else {
        ok = false;
        break;
      }
    }
    e_.entryFrame[i] = static_cast<uint32_t>(f);
    uint32_t* row = e_.spans + i * kSpanStride;
    row[kSpanEntry] = static_cast<uint32_t>(start);
    row[kSpanEntry + 1] = static_cast<uint32_t>(end);
    if (!ok) {
      e_.valid[i] = 0;
      e_.level[i] = 0;
      e_.pid[i] = 0;
      e_.seq[i] = 0;
      e_.timeHi[i] = 0;
      e_.timeLo[i] = 0;
      std::memset(row, 0, sizeof(uint32_t) * kSpanEntry);
      invalid_++;
      return false;
    }
    e_.valid[i] = 1;
    e_.level[i] = level == 0 && severity != 0 ? severityToLevel(severity) : level;
    e_.pid[i] = pid;
    e_.seq[i] = seq;
    e_.timeHi[i] = hi;
    e_.timeLo[i] = lo;
    std::memcpy(row, span, sizeof(uint32_t) * kSpanEntry);
    return true;
  }

  const uint8_t* b_;
  Entries e_;
  Frames f_;
  int64_t entries_;
  int64_t frames_;
  double invalid_;
  double malformed_;
};

// ---- JSON, written as json-render.ts writes it ----

/** The line's keys: LINE_KEYS of json-bytes.ts, which configure() checks them against. */
enum Key { kLevel, kTime, kPid, kHostname, kApp, kName, kSeq, kTraceId, kSpanId, kMsg, kKeyCount };
const std::string keys[kKeyCount] = {
    "{\"level\":", ",\"time\":", ",\"pid\":", ",\"hostname\":", ",\"app\":",
    ",\"name\":", ",\"seq\":", ",\"trace_id\":", ",\"span_id\":", ",\"msg\":",
};

/** JSON.stringify's escape of each byte below 0x20 and of `"` and `\`; empty for the rest. */
std::string escapes[128];

void setUpEscapes() {
  static const char* hex = "0123456789abcdef";
  for (int c = 0; c < 0x20; c++) escapes[c] = std::string("\\u00") + hex[c >> 4] + hex[c & 15];
  escapes['\b'] = "\\b";
  escapes['\t'] = "\\t";
  escapes['\n'] = "\\n";
  escapes['\f'] = "\\f";
  escapes['\r'] = "\\r";
  escapes['"'] = "\\\"";
  escapes['\\'] = "\\\\";
}

/** The length of the well-formed UTF-8 sequence at b[i] (a byte above 0x7f), or 0 (json-scan.ts). */
inline int utf8SequenceLength(const uint8_t* b, int64_t i, int64_t end) {
  const int c = b[i];
  if (c < 0xc2 || c > 0xf4) return 0;
  if (c < 0xe0) return i + 1 < end && (b[i + 1] & 0xc0) == 0x80 ? 2 : 0;
  const int c1 = i + 1 < end ? b[i + 1] : 0;
  if (c < 0xf0) {
    const int low = c == 0xe0 ? 0xa0 : 0x80;
    const int high = c == 0xed ? 0x9f : 0xbf;
    if (c1 < low || c1 > high || i + 2 >= end) return 0;
    return (b[i + 2] & 0xc0) == 0x80 ? 3 : 0;
  }
  const int low = c == 0xf0 ? 0x90 : 0x80;
  const int high = c == 0xf4 ? 0x8f : 0xbf;
  if (c1 < low || c1 > high || i + 3 >= end) return 0;
  return (b[i + 2] & 0xc0) == 0x80 && (b[i + 3] & 0xc0) == 0x80 ? 4 : 0;
}

/** True for the bytes a JSON string must escape or check: controls, `"`, `\`, and above 0x7f. */
bool special[256];

/**
 * The first special byte of b[i, end), or end: sixteen bytes at a time (a
 * signed compare below 0x20 catches the controls and every byte above 0x7f
 * at once), never reading at or past end.
 */
inline int64_t skipPlain(const uint8_t* b, int64_t i, int64_t end) {
#if defined(__x86_64__)
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  while (i + 16 <= end) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
    const __m128i hit =
        _mm_or_si128(_mm_cmplt_epi8(v, space), _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    const int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return i + __builtin_ctz(mask);
    i += 16;
  }
#endif
  while (i < end && !special[b[i]]) i++;
  return i;
}

/** The JSON string of the UTF-8 bytes src[s, e), quotes included, at out; its end, or nullptr when not UTF-8. */
uint8_t* putJsonString(uint8_t* out, const uint8_t* src, int64_t s, int64_t e) {
  *out++ = '"';
  int64_t i = s;
  while (i < e) {
    const int64_t j = skipPlain(src, i, e);
    std::memcpy(out, src + i, j - i);
    out += j - i;
    if (j == e) break;
    const uint8_t c = src[j];
    if (c < 0x80) {
      const std::string& escape = escapes[c];
      std::memcpy(out, escape.data(), escape.size());
      out += escape.size();
      i = j + 1;
    } else {
      const int n = utf8SequenceLength(src, j, e);
      if (n == 0) return nullptr;
      std::memcpy(out, src + j, n);
      out += n;
      i = j + n;
    }
  }
  *out++ = '"';
  return out;
}

// scanJsonObject (json-scan.ts), the same answers.
constexpr int kJsonInvalid = -1;
constexpr int kJsonEmptyObject = 0;
constexpr int kJsonObject = 1;
constexpr int kFieldsNotUtf8 = 2;
constexpr int kMaxDepth = 1024;
constexpr int64_t kBad = -1;
constexpr int64_t kNotUtf8 = -2;

inline int64_t afterSpace(const uint8_t* b, int64_t i, int64_t end) {
  while (i < end && (b[i] == 0x20 || b[i] == 0x09)) i++;
  return i;
}

inline bool isHex(const uint8_t* b, int64_t i, int64_t end) {
  if (i >= end) return false;
  const int c = b[i];
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

int64_t afterString(const uint8_t* b, int64_t i, int64_t end) {
  int64_t p = i + 1;
  while (p < end) {
    p = skipPlain(b, p, end);
    if (p == end) break;
    const int c = b[p];
    if (c == 0x22) return p + 1;
    if (c < 0x20) return kBad;
    if (c == 0x5c) {
      if (p + 1 >= end) return kBad;
      const int e = b[p + 1];
      if (e == 0x75) {
        if (p + 5 >= end || !(isHex(b, p + 2, end) && isHex(b, p + 3, end) && isHex(b, p + 4, end) && isHex(b, p + 5, end)))
          return kBad;
        p += 6;
      } else if (e == 0x22 || e == 0x5c || e == 0x2f || e == 0x62 || e == 0x66 || e == 0x6e || e == 0x72 || e == 0x74) {
        p += 2;
      } else {
        return kBad;
      }
    } else if (c < 0x80) {
      p++;
    } else {
      const int n = utf8SequenceLength(b, p, end);
      if (n == 0) return kNotUtf8;
      p += n;
    }
  }
  return kBad;
}

int64_t afterKey(const uint8_t* b, int64_t i, int64_t end) {
  if (i >= end || b[i] != 0x22) return kBad;
  const int64_t p = afterString(b, i, end);
  if (p < 0) return p;
  const int64_t q = afterSpace(b, p, end);
  return q < end && b[q] == 0x3a ? q + 1 : kBad;
}

inline int64_t afterDigits(const uint8_t* b, int64_t i, int64_t end) {
  while (i < end && b[i] >= 0x30 && b[i] <= 0x39) i++;
  return i;
}

int64_t afterNumber(const uint8_t* b, int64_t i, int64_t end) {
  int64_t p = i;
  if (b[p] == 0x2d) p++;
  if (p >= end) return kBad;
  const int first = b[p];
  if (first == 0x30) p++;
  else if (first >= 0x31 && first <= 0x39) p = afterDigits(b, p + 1, end);
  else return kBad;
  if (p < end && b[p] == 0x2e) {
    const int64_t q = afterDigits(b, p + 1, end);
    if (q == p + 1) return kBad;
    p = q;
  }
  if (p < end && (b[p] == 0x65 || b[p] == 0x45)) {
    p++;
    if (p < end && (b[p] == 0x2b || b[p] == 0x2d)) p++;
    const int64_t q = afterDigits(b, p, end);
    if (q == p) return kBad;
    p = q;
  }
  return p;
}

inline int64_t afterWord(const uint8_t* b, int64_t i, int64_t end, const char* word, int n) {
  if (i + n > end) return kBad;
  return std::memcmp(b + i, word, n) == 0 ? i + n : kBad;
}

int scanJsonObject(const uint8_t* b, int64_t start, int64_t end) {
  if (end - start < 2 || b[start] != 0x7b || b[end - 1] != 0x7d) return kJsonInvalid;
  uint8_t open[kMaxDepth];  // on the stack: worker threads may scan at once
  int depth = 0;
  bool members = false;
  int64_t i = start;
  for (;;) {
    i = afterSpace(b, i, end);
    const int c = i < end ? b[i] : -1;
    if (c == 0x7b || c == 0x5b) {
      if (depth == kMaxDepth) return kJsonInvalid;
      open[depth++] = c == 0x7b ? 1 : 0;
      i = afterSpace(b, i + 1, end);
      if (i < end && b[i] == (c == 0x7b ? 0x7d : 0x5d)) {
        depth--;
        i++;
      } else {
        if (depth == 1) members = true;
        if (c == 0x7b) {
          i = afterKey(b, i, end);
          if (i < 0) return i == kNotUtf8 ? kFieldsNotUtf8 : kJsonInvalid;
        }
        continue;
      }
    } else if (c == 0x22) {
      i = afterString(b, i, end);
    } else if (c == 0x2d || (c >= 0x30 && c <= 0x39)) {
      i = afterNumber(b, i, end);
    } else if (c == 0x74) {
      i = afterWord(b, i, end, "true", 4);
    } else if (c == 0x66) {
      i = afterWord(b, i, end, "false", 5);
    } else if (c == 0x6e) {
      i = afterWord(b, i, end, "null", 4);
    } else {
      return kJsonInvalid;
    }
    if (i < 0) return i == kNotUtf8 ? kFieldsNotUtf8 : kJsonInvalid;
    for (;;) {
      if (depth == 0) return i == end ? (members ? kJsonObject : kJsonEmptyObject) : kJsonInvalid;
      i = afterSpace(b, i, end);
      const int next = i < end ? b[i] : -1;
      const bool inObject = open[depth - 1] == 1;
      if (next == 0x2c) {
        i = afterSpace(b, i + 1, end);
        if (inObject) {
          i = afterKey(b, i, end);
          if (i < 0) return i == kNotUtf8 ? kFieldsNotUtf8 : kJsonInvalid;
        }
        break;
      }
      if (next == (inObject ? 0x7d : 0x5d)) {
        depth--;
        i++;
        continue;
      }
      return kJsonInvalid;
    }
  }
}

// ---- a field's value, found as JSON.parse + Fields#get find it (fields.ts) ----

// findField's answers for a row, beside a value's span.
constexpr int32_t kNoValue = -1;
constexpr int32_t kAskTheTypeScript = -2;

/** After the JSON value at b[i] of text already checked by scanJsonObject. */
int64_t afterValue(const uint8_t* b, int64_t i, int64_t end) {
  const int c = b[i];
  if (c == '"') return afterString(b, i, end);
  if (c == 't' || c == 'n') return i + 4;
  if (c == 'f') return i + 5;
  if (c != '{' && c != '[') return afterNumber(b, i, end);
  int depth = 0;
  int64_t p = i;
  do {
    const int d = b[p];
    if (d == '"') {
      p = afterString(b, p, end);
      continue;
    }
    if (d == '{' || d == '[') depth++;
    else if (d == '}' || d == ']') depth--;
    p++;
  } while (depth > 0 && p < end);
  return p;
}

inline uint32_t hex4(const uint8_t* p) {
  uint32_t v = 0;
  for (int k = 0; k < 4; k++) {
    const uint32_t c = p[k];
    v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return v;
}

/**
 * Whether the JSON string body b[s, e) (between its quotes, checked text)
 * decodes to the text whose UTF-8 is key[0, n) (well-formed: a lone surrogate
 * the body decodes to never equals it).
 */
bool nameEquals(const uint8_t* b, int64_t s, int64_t e, const uint8_t* key, size_t n) {
  size_t k = 0;
  int64_t i = s;
  while (i < e) {
    if (b[i] != '\\') {
      if (k >= n || key[k] != b[i]) return false;
      k++;
      i++;
      continue;
    }
    uint32_t cp;
    const uint8_t x = b[i + 1];
    if (x == 'u') {
      cp = hex4(b + i + 2);
      i += 6;
      if (cp >= 0xdc00 && cp <= 0xdfff) return false;
      if (cp >= 0xd800 && cp <= 0xdbff) {
        if (i + 6 > e || b[i] != '\\' || b[i + 1] != 'u') return false;
        const uint32_t low = hex4(b + i + 2);
        if (low < 0xdc00 || low > 0xdfff) return false;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        i += 6;
      }
    } else {
      cp = x == 'b' ? 8 : x == 'f' ? 12 : x == 'n' ? 10 : x == 'r' ? 13 : x == 't' ? 9 : x;  // `"` `\` `/` stand for themselves
      i += 2;
    }
    uint8_t utf8[4];
    size_t length;
    if (cp < 0x80) {
      utf8[0] = static_cast<uint8_t>(cp);
      length = 1;
    } else if (cp < 0x800) {
      utf8[0] = static_cast<uint8_t>(0xc0 | (cp >> 6));
      utf8[1] = static_cast<uint8_t>(0x80 | (cp & 63));
      length = 2;
    } else if (cp < 0x10000) {
      utf8[0] = static_cast<uint8_t>(0xe0 | (cp >> 12));
      utf8[1] = static_cast<uint8_t>(0x80 | ((cp >> 6) & 63));
      utf8[2] = static_cast<uint8_t>(0x80 | (cp & 63));
      length = 3;
    } else {
      utf8[0] = static_cast<uint8_t>(0xf0 | (cp >> 18));
      utf8[1] = static_cast<uint8_t>(0x80 | ((cp >> 12) & 63));
      utf8[2] = static_cast<uint8_t>(0x80 | ((cp >> 6) & 63));
      utf8[3] = static_cast<uint8_t>(0x80 | (cp & 63));
      length = 4;
    }
    if (k + length > n || std::memcmp(key + k, utf8, length) != 0) return false;
    k += length;
  }
  return k == n;
}

/** The last member named `key` of the object at b[start] (checked text): its value's span, or kNoValue. */
int32_t member(const uint8_t* b, int64_t start, int64_t end, const uint8_t* key, size_t keyLength, int64_t* valueStart,
               int64_t* valueEnd) {
  int32_t found = kNoValue;
  int64_t i = afterSpace(b, start + 1, end);
  if (b[i] == '}') return kNoValue;
  for (;;) {
    const int64_t keyEnd = afterString(b, i, end);
    const bool named = nameEquals(b, i + 1, keyEnd - 1, key, keyLength);
    const int64_t value = afterSpace(b, afterSpace(b, keyEnd, end) + 1, end);
    const int64_t after = afterValue(b, value, end);
    if (named) {
      found = 0;
      *valueStart = value;
      *valueEnd = after;
    }
    i = afterSpace(b, after, end);
    if (b[i] != ',') return found;
    i = afterSpace(b, i + 1, end);
  }
}

/** The value at the path of `keys` in the fields b[start, end): its span, kNoValue or kAskTheTypeScript. */
int32_t fieldValue(const uint8_t* b, int64_t start, int64_t end, const std::string* keys, size_t depth,
                   int64_t* valueStart, int64_t* valueEnd) {
  if (end <= start) return kNoValue;  // no fields
  const int shape = scanJsonObject(b, start, end);
  if (shape == kJsonEmptyObject) return kNoValue;
  if (shape != kJsonObject) return kAskTheTypeScript;  // JSON.parse may read what the line refuses
  int64_t s = start;
  int64_t e = end;
  for (size_t k = 0; k < depth; k++) {
    if (k > 0) {
      if (b[s] == '[') return kAskTheTypeScript;  // indexes and `length` of an array
      if (b[s] != '{') return kNoValue;
    }
    const int32_t found = member(b, s, e, reinterpret_cast<const uint8_t*>(keys[k].data()), keys[k].size(), &s, &e);
    if (found != 0) return found;
  }
  *valueStart = s;
  *valueEnd = e;
  return 0;
}

// render() statuses and state slots.
constexpr int kRendered = 0;
constexpr int kFull = 1;
constexpr int kGrow = 2;
constexpr int kSlow = 3;

constexpr int kStatePos = 0;
constexpr int kStateHostLength = 1;
constexpr int kStateAppLength = 2;
constexpr int kStateSourceLength = 3;
constexpr int kStateIdentityLength = 4;
constexpr int kStateAt = 5;

// The room a line is given, as JsonRenderer#room asks for it.
constexpr int64_t kLineFixedRoom = 320;
constexpr int64_t kRoomPerByte = 6;

constexpr double kMaxSafeInteger = 9007199254740991.0;

inline uint8_t* putKey(uint8_t* out, Key key) {
  std::memcpy(out, keys[key].data(), keys[key].size());
  return out + keys[key].size();
}

/** "00" … "99". */
char pairs[200];

/** v below 10^9 in decimal, padded with zeros to `width` digits, two digits per (32-bit) division. */
inline uint8_t* putDigits(uint8_t* out, uint32_t v, int width) {
  int length = 1;
  for (uint32_t power = 10; length < 10 && v >= power; power *= 10) length++;
  if (length < width) length = width;
  uint8_t* const end = out + length;
  uint8_t* q = end;
  while (q - out >= 2) {
    const uint32_t pair = (v % 100) * 2;
    v /= 100;
    *--q = pairs[pair + 1];
    *--q = pairs[pair];
  }
  if (q > out) *--q = static_cast<uint8_t>('0' + v % 10);
  return end;
}

/** A non-negative integer below 2^64 in decimal. */
inline uint8_t* putUnsigned(uint8_t* out, uint64_t v) {
  if (v < 1000000000) return putDigits(out, static_cast<uint32_t>(v), 0);
  if (v < 1000000000000000000ull) return putDigits(putUnsigned(out, v / 1000000000), v % 1000000000, 9);
  return putDigits(putDigits(putDigits(out, static_cast<uint32_t>(v / 1000000000000000000ull), 0),
                             (v / 1000000000) % 1000000000, 9),
                   v % 1000000000, 9);
}

/**
 * Times in milliseconds, written with the digits above the last six kept
 * from the line before: they change every 1,000 seconds, and a batch's
 * entries are close in time.
 */
class TimeDigits {
 public:
  uint8_t* put(uint8_t* out, uint64_t ms) {
    const uint64_t high = ms / 1000000;
    if (high != high_ || length_ < 0) {
      high_ = high;
      length_ = high == 0 ? 0 : static_cast<int>(putUnsigned(digits_, high) - digits_);
    }
    if (length_ == 0) return putDigits(out, static_cast<uint32_t>(ms), 0);
    std::memcpy(out, digits_, length_);
    return putDigits(out + length_, static_cast<uint32_t>(ms % 1000000), 6);
  }

 private:
  uint64_t high_ = 0;
  int length_ = -1;
  uint8_t digits_[20];
};

/** Buffers and lengths of the identity cache, shared with JsonRenderer. */
struct Identity {
  uint8_t* key;
  size_t keyCapacity;
  uint8_t* rendered;
  size_t renderedCapacity;
  double* state;
};

/** `,"hostname":…,"app":…,"name":…` at out, from the cache while the raw bytes repeat; nullptr when not UTF-8. */
uint8_t* putIdentity(uint8_t* out, const uint8_t* src, const uint32_t* row, Identity& id) {
  const int64_t hostStart = row[kSpanHostname];
  const int64_t hostLength = row[kSpanHostname + 1] - hostStart;
  const int64_t appStart = row[kSpanApp];
  const int64_t appLength = row[kSpanApp + 1] - appStart;
  const int64_t sourceStart = row[kSpanSource];
  const int64_t sourceLength = row[kSpanSource + 1] - sourceStart;
  double* state = id.state;
  if (hostLength == state[kStateHostLength] && appLength == state[kStateAppLength] &&
      sourceLength == state[kStateSourceLength] && std::memcmp(src + hostStart, id.key, hostLength) == 0 &&
      std::memcmp(src + appStart, id.key + hostLength, appLength) == 0 &&
      std::memcmp(src + sourceStart, id.key + hostLength + appLength, sourceLength) == 0) {
    const size_t n = static_cast<size_t>(state[kStateIdentityLength]);
    std::memcpy(out, id.rendered, n);
    return out + n;
  }
  uint8_t* const start = out;
  if (hostLength > 0 && (out = putJsonString(putKey(out, kHostname), src, hostStart, hostStart + hostLength)) == nullptr)
    return nullptr;
  if (appLength > 0 && (out = putJsonString(putKey(out, kApp), src, appStart, appStart + appLength)) == nullptr)
    return nullptr;
  if (sourceLength > 0 &&
      (out = putJsonString(putKey(out, kName), src, sourceStart, sourceStart + sourceLength)) == nullptr)
    return nullptr;
  const size_t rendered = out - start;
  if (static_cast<size_t>(hostLength + appLength + sourceLength) <= id.keyCapacity && rendered <= id.renderedCapacity) {
    std::memcpy(id.key, src + hostStart, hostLength);
    std::memcpy(id.key + hostLength, src + appStart, appLength);
    std::memcpy(id.key + hostLength + appLength, src + sourceStart, sourceLength);
    std::memcpy(id.rendered, start, rendered);
    state[kStateHostLength] = static_cast<double>(hostLength);
    state[kStateAppLength] = static_cast<double>(appLength);
    state[kStateSourceLength] = static_cast<double>(sourceLength);
    state[kStateIdentityLength] = static_cast<double>(rendered);
  } else {
    state[kStateHostLength] = -1;
  }
  return out;
}

/** Row i's line at out (room assured); its end, or nullptr when the TypeScript must write it. */
uint8_t* putLine(uint8_t* out, const Entries& e, int64_t i, const uint8_t* src, Identity& id, TimeDigits& time) {
  const double level = e.level[i];
  const double pid = e.pid[i];
  const double seq = e.seq[i];
  if (level > kMaxSafeInteger || pid > kMaxSafeInteger || seq > kMaxSafeInteger) return nullptr;
  const uint32_t* row = e.spans + i * kSpanStride;
  uint8_t* p = putUnsigned(putKey(out, kLevel), static_cast<uint64_t>(level));
  const uint64_t ns = (static_cast<uint64_t>(e.timeHi[i]) << 32) | e.timeLo[i];
  p = time.put(putKey(p, kTime), ns / 1000000);
  p = putUnsigned(putKey(p, kPid), static_cast<uint64_t>(pid));
  if ((p = putIdentity(p, src, row, id)) == nullptr) return nullptr;
  if (seq != 0) p = putUnsigned(putKey(p, kSeq), static_cast<uint64_t>(seq));
  if (row[kSpanTraceId + 1] > row[kSpanTraceId] &&
      (p = putJsonString(putKey(p, kTraceId), src, row[kSpanTraceId], row[kSpanTraceId + 1])) == nullptr)
    return nullptr;
  if (row[kSpanSpanId + 1] > row[kSpanSpanId] &&
      (p = putJsonString(putKey(p, kSpanId), src, row[kSpanSpanId], row[kSpanSpanId + 1])) == nullptr)
    return nullptr;
  const int64_t fieldsStart = row[kSpanFields];
  const int64_t fieldsEnd = row[kSpanFields + 1];
  if (fieldsEnd > fieldsStart) {
    const int shape = scanJsonObject(src, fieldsStart, fieldsEnd);
    if (shape == kJsonObject) {
      *p++ = ',';
      std::memcpy(p, src + fieldsStart + 1, fieldsEnd - fieldsStart - 2);
      p += fieldsEnd - fieldsStart - 2;
    } else if (shape != kJsonEmptyObject) {
      return nullptr;  // not one object, or not UTF-8: counted and written by the TypeScript
    }
  }
  if ((p = putJsonString(putKey(p, kMsg), src, row[kSpanMessage], row[kSpanMessage + 1])) == nullptr) return nullptr;
  *p++ = '}';
  *p++ = '\n';
  return p;
}

/** True when every span of row i lies inside buf (an index always gives such rows; this keeps a mistake from reading outside). */
inline bool rowInside(const uint32_t* row, size_t length) {
  for (int k = 0; k < kSpanStride; k += 2)
    if (row[k] > row[k + 1] || row[k + 1] > length) return false;
  return true;
}

// ---- N-API ----

#define CALL(env, call)                                       \
  do {                                                        \
    if ((call) != napi_ok) {                                  \
      napi_throw_error((env), nullptr, "logkit_wire: " #call); \
      return nullptr;                                         \
    }                                                         \
  } while (0)

bool bytesOf(napi_env env, napi_value value, uint8_t** data, size_t* length) {
  napi_typedarray_type type;
  void* raw;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, nullptr, nullptr) != napi_ok) return false;
  if (type != napi_uint8_array) return false;
  *data = static_cast<uint8_t*>(raw);
  return true;
}

bool doublesOf(napi_env env, napi_value value, double** data, size_t* length) {
  napi_typedarray_type type;
  void* raw;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, nullptr, nullptr) != napi_ok) return false;
  if (type != napi_float64_array) return false;
  *data = static_cast<double*>(raw);
  return true;
}

/** The block of `rows` rows of `perRow` bytes in an ArrayBuffer, checked for size. */
bool blockOf(napi_env env, napi_value value, int64_t rows, int64_t perRow, uint8_t** data) {
  void* raw;
  size_t length;
  if (napi_get_arraybuffer_info(env, value, &raw, &length) != napi_ok) return false;
  if (rows < 0 || static_cast<uint64_t>(rows * perRow) > length) return false;
  *data = static_cast<uint8_t*>(raw);
  return true;
}

int64_t integerOf(napi_env env, napi_value value) {
  double v;
  if (napi_get_value_double(env, value, &v) != napi_ok || !(v >= 0) || v > 9.0e15) return -1;
  return static_cast<int64_t>(v);
}

napi_value number(napi_env env, double v) {
  napi_value result;
  napi_create_double(env, v, &result);
  return result;
}

napi_value fail(napi_env env, const char* message) {
  napi_throw_type_error(env, nullptr, message);
  return nullptr;
}

napi_value Index(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 10) return fail(env, "index: 10 arguments");
  uint8_t* buf;
  size_t length;
  double* state;
  size_t stateLength;
  if (!bytesOf(env, argv[0], &buf, &length)) return fail(env, "index: buf must be a Uint8Array");
  const int64_t start = integerOf(env, argv[1]);
  const int64_t end = integerOf(env, argv[2]);
  bool checkCrc;
  double maxFrameSize;
  CALL(env, napi_get_value_bool(env, argv[3], &checkCrc));
  CALL(env, napi_get_value_double(env, argv[4], &maxFrameSize));
  const int64_t entryCap = integerOf(env, argv[6]);
  const int64_t frameCap = integerOf(env, argv[8]);
  uint8_t* entryBlock;
  uint8_t* frameBlock;
  if (!blockOf(env, argv[5], entryCap, Entries::kBytesPerRow, &entryBlock) ||
      !blockOf(env, argv[7], frameCap, Frames::kBytesPerRow, &frameBlock))
    return fail(env, "index: column blocks smaller than their capacity");
  if (!doublesOf(env, argv[9], &state, &stateLength) || stateLength < 6) return fail(env, "index: bad state");
  if (start < 0 || end < 0 || state[kStateEntries] > entryCap || state[kStateFrames] > frameCap ||
      !(state[kStateEntries] >= 0) || !(state[kStateFrames] >= 0))
    return fail(env, "index: bad range or counts");
  const int64_t limit = end < static_cast<int64_t>(length) ? end : static_cast<int64_t>(length);
  Indexer indexer(buf, Entries(entryBlock, entryCap), Frames(frameBlock, frameCap), state);
  return number(env, indexer.add(start, limit, checkCrc, maxFrameSize, state));
}

/** The entry columns of argv[0] (block), argv[1] (capacity) and argv[2] (rows indexed): false when they do not fit. */
bool entriesOf(napi_env env, const napi_value* argv, Entries* entries, int64_t* count) {
  const int64_t cap = integerOf(env, argv[1]);
  *count = integerOf(env, argv[2]);
  uint8_t* block;
  if (!blockOf(env, argv[0], cap, Entries::kBytesPerRow, &block) || *count < 0 || *count > cap) return false;
  *entries = Entries(block, cap);
  return true;
}

napi_value Render(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 11) return fail(env, "render: 11 arguments");
  Entries e(nullptr, 0);
  int64_t count;
  if (!entriesOf(env, argv, &e, &count)) return fail(env, "render: column block smaller than its capacity");
  uint8_t* src;
  size_t srcLength;
  uint8_t* out;
  size_t outLength;
  if (!bytesOf(env, argv[3], &src, &srcLength) || !bytesOf(env, argv[4], &out, &outLength))
    return fail(env, "render: buf and out must be Uint8Arrays");
  const int64_t from = integerOf(env, argv[5]);
  const int64_t to = integerOf(env, argv[6]);
  if (from < 0 || to < 0) return fail(env, "render: bad range");
  napi_valuetype selectionType;
  CALL(env, napi_typeof(env, argv[7], &selectionType));
  const int32_t* selection = nullptr;
  if (selectionType != napi_undefined && selectionType != napi_null) {
    napi_typedarray_type type;
    size_t n;
    void* raw;
    if (napi_get_typedarray_info(env, argv[7], &type, &n, &raw, nullptr, nullptr) != napi_ok ||
        type != napi_int32_array || static_cast<uint64_t>(to) > n)
      return fail(env, "render: selection must be an Int32Array covering the range");
    selection = static_cast<const int32_t*>(raw);
  }
  Identity id;
  double* state;
  size_t stateLength;
  if (!bytesOf(env, argv[8], &id.key, &id.keyCapacity) || !bytesOf(env, argv[9], &id.rendered, &id.renderedCapacity) ||
      !doublesOf(env, argv[10], &state, &stateLength) || stateLength < 6)
    return fail(env, "render: bad identity cache or state");
  id.state = state;
  const double at = state[kStatePos];
  if (!(at >= 0) || at > outLength) return fail(env, "render: bad position");
  uint8_t* p = out + static_cast<size_t>(at);
  uint8_t* const outEnd = out + outLength;
  TimeDigits time;
  int status = kRendered;
  int64_t k = from;
  for (; k < to; k++) {
    const int64_t i = selection != nullptr ? selection[k] : k;
    if (i < 0 || i >= count || e.valid[i] == 0) continue;
    const uint32_t* row = e.spans + i * kSpanStride;
    if (!rowInside(row, srcLength)) {
      status = kSlow;
      break;
    }
    const int64_t need = kLineFixedRoom + kRoomPerByte * (row[kSpanEntry + 1] - row[kSpanEntry]);
    if (need > outEnd - p) {
      status = p > out ? kFull : kGrow;
      break;
    }
    uint8_t* next = putLine(p, e, i, src, id, time);
    if (next == nullptr) {
      status = kSlow;
      break;
    }
    p = next;
  }
  state[kStatePos] = static_cast<double>(p - out);
  state[kStateAt] = static_cast<double>(k);
  return number(env, status);
}

napi_value FindField(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 8) return fail(env, "findField: 8 arguments");
  Entries e(nullptr, 0);
  int64_t count;
  if (!entriesOf(env, argv, &e, &count)) return fail(env, "findField: column block smaller than its capacity");
  uint8_t* src;
  size_t srcLength;
  if (!bytesOf(env, argv[3], &src, &srcLength)) return fail(env, "findField: buf must be a Uint8Array");
  const int64_t n = integerOf(env, argv[5]);
  napi_typedarray_type type;
  size_t length;
  void* raw;
  if (napi_get_typedarray_info(env, argv[4], &type, &length, &raw, nullptr, nullptr) != napi_ok ||
      type != napi_int32_array || n < 0 || static_cast<uint64_t>(n) > length)
    return fail(env, "findField: rows must be an Int32Array of at least n rows");
  const int32_t* rows = static_cast<const int32_t*>(raw);
  uint32_t depth = 0;
  if (napi_get_array_length(env, argv[6], &depth) != napi_ok || depth == 0 || depth > 64)
    return fail(env, "findField: keys must be an array of 1 to 64 Uint8Arrays");
  std::string path[64];
  for (uint32_t k = 0; k < depth; k++) {
    napi_value item;
    uint8_t* data;
    size_t keyLength;
    CALL(env, napi_get_element(env, argv[6], k, &item));
    if (!bytesOf(env, item, &data, &keyLength)) return fail(env, "findField: keys must be Uint8Arrays");
    path[k].assign(reinterpret_cast<char*>(data), keyLength);
  }
  if (napi_get_typedarray_info(env, argv[7], &type, &length, &raw, nullptr, nullptr) != napi_ok ||
      type != napi_int32_array || static_cast<uint64_t>(2 * n) > length)
    return fail(env, "findField: out must be an Int32Array of 2n");
  int32_t* out = static_cast<int32_t*>(raw);
  for (int64_t k = 0; k < n; k++) {
    const int64_t i = rows[k];
    int32_t answer = kAskTheTypeScript;
    int64_t s = 0;
    int64_t t = 0;
    if (i >= 0 && i < count && e.valid[i] != 0 && rowInside(e.spans + i * kSpanStride, srcLength)) {
      const uint32_t* row = e.spans + i * kSpanStride;
      answer = fieldValue(src, row[kSpanFields], row[kSpanFields + 1], path, depth, &s, &t);
    }
    out[2 * k] = answer == 0 ? static_cast<int32_t>(s) : answer;
    out[2 * k + 1] = answer == 0 ? static_cast<int32_t>(t) : 0;
  }
  return nullptr;
}

napi_value Crc32(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint8_t* buf;
  size_t length;
  if (argc < 3 || !bytesOf(env, argv[0], &buf, &length)) return fail(env, "crc32: buf must be a Uint8Array");
  const int64_t start = integerOf(env, argv[1]);
  const int64_t end = integerOf(env, argv[2]);
  if (start < 0 || end < start || end > static_cast<int64_t>(length)) return fail(env, "crc32: bad range");
  return number(env, crc32Of(buf + start, end - start));
}

napi_value Configure(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint32_t n = 0;
  if (argc < 1 || napi_get_array_length(env, argv[0], &n) != napi_ok || n != kKeyCount)
    return fail(env, "configure: an array of the line's 10 keys");
  for (uint32_t k = 0; k < n; k++) {
    napi_value item;
    uint8_t* data;
    size_t length;
    CALL(env, napi_get_element(env, argv[0], k, &item));
    if (!bytesOf(env, item, &data, &length)) return fail(env, "configure: keys are Uint8Arrays");
    if (keys[k].size() != length || std::memcmp(keys[k].data(), data, length) != 0)
      return fail(env, "configure: the line's keys are not the ones this addon writes (rebuild @logkit/wire-native)");
  }
  return nullptr;
}

napi_value Init(napi_env env, napi_value exports) {
  // Tables shared by every thread that loads the addon: made once, read-only after.
  static std::once_flag tables;
  std::call_once(tables, [] {
    setUpCrc();
    setUpEscapes();
    for (int c = 0; c < 256; c++) special[c] = c < 0x20 || c == '"' || c == '\\' || c > 0x7f;
    for (int d = 0; d < 100; d++) {
      pairs[2 * d] = static_cast<char>('0' + d / 10);
      pairs[2 * d + 1] = static_cast<char>('0' + d % 10);
    }
  });
  const napi_property_descriptor methods[] = {
      {"index", nullptr, Index, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"render", nullptr, Render, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"findField", nullptr, FindField, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"crc32", nullptr, Crc32, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"configure", nullptr, Configure, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(methods) / sizeof(methods[0]), methods);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
