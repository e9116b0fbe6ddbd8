#include "delta/x86_decode.h"

#include <array>

namespace outpost::delta {
namespace {

// An opcode's form: its immediate (low 4 bits) and flags.
enum Imm : uint8_t {
  kNone,
  kB,      // 1 byte (also rel8)
  kW,      // 2 bytes
  kZ,      // 2 bytes with operand size 16 (66 without REX.W), else 4
  kV,      // B8..BF: 8 bytes with REX.W, 2 with 66, else 4
  kJ,      // rel32 branch
  kWB,     // ENTER: 2 bytes then 1
  kMoffs,  // A0..A3: an 8-byte address (4 with 67), reported as the displacement
  kTestB,  // F6: 1 byte when ModRM.reg is 0 or 1
  kTestZ,  // F7: as kZ when ModRM.reg is 0 or 1
  kD,      // 4 bytes
};
constexpr uint8_t kModRM = 0x10;
constexpr uint8_t kBad = 0x20;      // invalid in 64-bit mode
constexpr uint8_t kRegOnly = 0x40;  // ModRM always names registers (MOV to/from CR/DR)
constexpr uint8_t kImmMask = 0x0F;

using Table = std::array<uint8_t, 256>;

constexpr void Set(Table& t, int first, int last, uint8_t form) {
  for (int op = first; op <= last; ++op) t[op] = form;
}

// The one-byte opcode map (prefixes, 0F, 62, C4, C5 and 8F are handled before it).
constexpr Table OneByteMap() {
  Table t{};
  for (int row = 0; row < 0x40; row += 8) {  // ADD, OR, ADC, SBB, AND, SUB, XOR, CMP
    Set(t, row, row + 3, kModRM);
    t[row + 4] = kB;
    t[row + 5] = kZ;
    t[row + 6] = t[row + 7] = kBad;  // PUSH/POP segment, DAA, ... (26, 2E, 36, 3E are prefixes)
  }
  Set(t, 0x60, 0x61, kBad);
  t[0x63] = kModRM;
  t[0x68] = kZ;
  t[0x69] = kModRM | kZ;
  t[0x6A] = kB;
  t[0x6B] = kModRM | kB;
  Set(t, 0x70, 0x7F, kB);
  t[0x80] = kModRM | kB;
  t[0x81] = kModRM | kZ;
  t[0x82] = kBad;
  t[0x83] = kModRM | kB;
  Set(t, 0x84, 0x8F, kModRM);
  t[0x9A] = kBad;
  Set(t, 0xA0, 0xA3, kMoffs);
  t[0xA8] = kB;
  t[0xA9] = kZ;
  Set(t, 0xB0, 0xB7, kB);
  Set(t, 0xB8, 0xBF, kV);
  Set(t, 0xC0, 0xC1, kModRM | kB);
  t[0xC2] = kW;
  t[0xC6] = kModRM | kB;
  t[0xC7] = kModRM | kZ;
  t[0xC8] = kWB;
  t[0xCA] = kW;
  t[0xCD] = kB;
  t[0xCE] = kBad;
  Set(t, 0xD0, 0xD3, kModRM);
  Set(t, 0xD4, 0xD6, kBad);
  Set(t, 0xD8, 0xDF, kModRM);
  Set(t, 0xE0, 0xE7, kB);
  Set(t, 0xE8, 0xE9, kJ);
  t[0xEA] = kBad;
  t[0xEB] = kB;
  t[0xF6] = kModRM | kTestB;
  t[0xF7] = kModRM | kTestZ;
  Set(t, 0xFE, 0xFF, kModRM);
  return t;
}

// The two-byte map, 0F xx (0F 38 and 0F 3A are handled before it).
constexpr Table TwoByteMap() {
  Table t{};
  Set(t, 0x00, 0xFF, kModRM);
  t[0x04] = t[0x0A] = t[0x0C] = kBad;
  Set(t, 0x05, 0x09, kNone);  // SYSCALL, CLTS, SYSRET, INVD, WBINVD
  t[0x0B] = t[0x0E] = kNone;  // UD2, FEMMS
  t[0x0F] = kModRM | kB;      // 3DNow!: the opcode is a trailing byte
  Set(t, 0x20, 0x23, kModRM | kRegOnly);
  Set(t, 0x24, 0x27, kBad);
  Set(t, 0x30, 0x37, kNone);  // WRMSR, RDTSC, RDMSR, RDPMC, SYSENTER, SYSEXIT, -, GETSEC
  t[0x36] = kBad;
  Set(t, 0x39, 0x3F, kBad);
  Set(t, 0x70, 0x73, kModRM | kB);
  t[0x77] = kNone;  // EMMS
  Set(t, 0x7A, 0x7B, kBad);
  Set(t, 0x80, 0x8F, kJ);
  Set(t, 0xA0, 0xA2, kNone);  // PUSH FS, POP FS, CPUID
  t[0xA4] = t[0xAC] = t[0xBA] = kModRM | kB;
  Set(t, 0xA6, 0xA7, kBad);
  Set(t, 0xA8, 0xAA, kNone);  // PUSH GS, POP GS, RSM
  t[0xC2] = kModRM | kB;
  Set(t, 0xC4, 0xC6, kModRM | kB);
  Set(t, 0xC8, 0xCF, kNone);  // BSWAP
  return t;
}

// What each byte is before the opcode.
enum Prefix : uint8_t { kNotPrefix, kLegacy, kOpsize, kAddrsize, kRex, kRexW };

constexpr Table PrefixMap() {
  Table t{};
  for (int b : {0xF0, 0xF2, 0xF3, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65}) t[b] = kLegacy;
  t[0x66] = kOpsize;
  t[0x67] = kAddrsize;
  Set(t, 0x40, 0x47, kRex);
  Set(t, 0x48, 0x4F, kRexW);
  return t;
}

constexpr Table kPrefixes = PrefixMap();
constexpr Table kOneByte = OneByteMap();
constexpr Table kTwoByte = TwoByteMap();

// The form of a VEX or EVEX instruction's opcode in `map` (1: 0F, 2: 0F 38, 3: 0F 3A, 5 and 6:
// EVEX's FP16 maps); kBad for other maps.
uint8_t VectorForm(unsigned map, uint8_t opcode, bool evex) {
  switch (map) {
    case 1:
      if (opcode == 0x77 && !evex) return kNone;  // VZEROUPPER, VZEROALL
      if ((opcode >= 0x70 && opcode <= 0x73) || opcode == 0xC2 || (opcode >= 0xC4 && opcode <= 0xC6)) {
        return kModRM | kB;
      }
      return kModRM;
    case 2: return kModRM;
    case 3: return kModRM | kB;
    case 5:
    case 6: return evex ? kModRM : kBad;
    default: return kBad;
  }
}

// The form of an XOP instruction in `map` (8, 9 or 10); kBad for other maps.
uint8_t XopForm(unsigned map) {
  switch (map) {
    case 8: return kModRM | kB;
    case 9: return kModRM;
    case 10: return kModRM | kD;
    default: return kBad;
  }
}

// The forms kForms is made from: the one-byte map (0..255) and the two-byte map (256..511), with
// kSlow for what it leaves to DecodeAny: prefixes other than one REX, the VEX, EVEX and XOP
// escapes, 0F 38 and 0F 3A, invalid opcodes, MOV to or from CR/DR, and the rare immediates
// (A0..A3's address, ENTER's two).
constexpr uint8_t kSlow = 0xFF;

constexpr std::array<uint8_t, 512> CommonMap() {
  std::array<uint8_t, 512> t{};
  for (int b = 0; b < 256; ++b) {
    t[b] = kOneByte[b];
    t[256 + b] = kTwoByte[b];
  }
  for (uint8_t& form : t) {
    uint8_t imm = form & kImmMask;
    if ((form & (kBad | kRegOnly)) != 0 || imm == kMoffs || imm == kWB) form = kSlow;
  }
  for (int b = 0; b < 256; ++b) {
    if (kPrefixes[b] != kNotPrefix) t[b] = kSlow;
  }
  for (int b : {0x0F, 0xC4, 0xC5, 0x62, 0x8F}) t[b] = kSlow;
  t[256 + 0x38] = t[256 + 0x3A] = kSlow;
  return t;
}

// What a ModRM byte adds: its displacement's size (low 3 bits) and flags; 0 for a register
// operand (mod 3).
constexpr uint8_t kHasSib = 0x08, kRip = 0x10, kMod0 = 0x20, kMemory = 0x40;

constexpr Table ModRMMap() {
  Table t{};
  for (int m = 0; m < 0xC0; ++m) {
    unsigned mod = m >> 6, rm = m & 7;
    uint8_t info = kMemory | (rm == 4 ? kHasSib : 0) | (mod == 0 ? kMod0 : 0);
    if (mod == 1) info |= 1;
    if (mod == 2 || (mod == 0 && rm == 5)) info |= 4;
    if (mod == 0 && rm == 5) info |= kRip;
    t[m] = info;
  }
  return t;
}

constexpr std::array<uint8_t, 512> kCommon = CommonMap();
constexpr Table kModRMInfo = ModRMMap();

// The immediate's size per kind without REX.W, when no 66 prefix shortens it (F6/F7: the size
// TEST's takes).
constexpr uint8_t kImmBytes[16] = {0, 1, 2, 4, 4, 4, 0, 0, 1, 4, 4};

// The x86_detail::kForms entry of an opcode of the one- or two-byte map (`two`) and a ModRM byte.
constexpr uint16_t FormEntry(unsigned two, uint8_t opcode, uint8_t modrm) {
  namespace d = x86_detail;
  uint8_t form = kCommon[two * 256 + opcode];
  if (form == kSlow) return d::kFormSlow;
  unsigned kind = form & kImmMask;
  unsigned imm = kImmBytes[kind];
  if ((kind == kTestB || kind == kTestZ) && ((modrm >> 3) & 7) >= 2) imm = 0;  // TEST only: reg 0, 1
  unsigned entry = imm << d::kFormImmShift;
  unsigned fields_at = 1 + two;
  if (form & kModRM) {
    uint8_t info = kModRMInfo[modrm];
    fields_at += 1 + ((info & kHasSib) != 0 ? 1 : 0);
    entry |= (info & 0x07) | ((info & kRip) != 0 ? d::kFormRip : 0);
    if (info != 0) entry |= d::kFormMemory;
    if ((info & kHasSib) != 0 && (info & kMod0) != 0) entry |= d::kFormSibBase;
  }
  if (imm != 0 && (kind == kJ || (two == 0 && opcode == 0xC7 && modrm == 0xF8))) entry |= d::kFormImmRelative;
  if (kind == kV) entry |= d::kFormWide;
  return static_cast<uint16_t>(entry | fields_at << d::kFormFieldsAtShift);
}

constexpr std::array<uint16_t, 512 * 256> FormTable() {
  std::array<uint16_t, 512 * 256> t{};
  for (unsigned i = 0; i < t.size(); ++i) {
    t[i] = FormEntry(i >> 16, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i));
  }
  return t;
}

}  // namespace

namespace x86_detail {

// Constant-initialized where the compiler evaluates FormTable whole (GCC); clang's constexpr step
// limit is lower, and there it is filled before main.
const std::array<uint16_t, 512 * 256> kForms = FormTable();

bool DecodeAny(const uint8_t* code, size_t size, X86Insn* out) {
  size_t limit = size < kMaxX86Length ? size : kMaxX86Length;
  size_t pos = 0;
  out->read = static_cast<uint8_t>(limit);  // what a failure below may depend on
  bool opsize16 = false, addr32 = false, rex_w = false;
  for (;; ++pos) {  // legacy prefixes and REX (a legacy prefix after a REX voids it)
    if (pos >= limit) return false;
    uint8_t kind = kPrefixes[code[pos]];
    if (kind == kNotPrefix) break;
    rex_w = kind == kRexW;
    opsize16 |= kind == kOpsize;
    addr32 |= kind == kAddrsize;
  }
  if (pos >= limit) return false;
  uint8_t opcode = code[pos++];
  uint8_t form;
  bool relative_c7 = false;
  if (opcode == 0x0F) {
    if (pos >= limit) return false;
    uint8_t second = code[pos++];
    if (second == 0x38 || second == 0x3A) {
      if (pos >= limit) return false;
      ++pos;  // the third opcode byte
      form = second == 0x38 ? kModRM : kModRM | kB;
    } else {
      form = kTwoByte[second];
    }
  } else if (opcode == 0xC4 || opcode == 0xC5 || opcode == 0x62) {
    size_t prefix_bytes = opcode == 0xC5 ? 1 : opcode == 0xC4 ? 2 : 3;
    if (pos + prefix_bytes >= limit) return false;
    unsigned map = opcode == 0xC5 ? 1 : code[pos] & (opcode == 0x62 ? 0x07 : 0x1F);
    if (opcode == 0xC4) rex_w = (code[pos + 1] & 0x80) != 0;
    pos += prefix_bytes;
    form = VectorForm(map, code[pos++], opcode == 0x62);
  } else if (opcode == 0x8F && pos < limit && (code[pos] & 0x38) != 0) {
    if (pos + 2 >= limit) return false;
    form = XopForm(code[pos] & 0x1F);
    pos += 3;  // the two XOP bytes and the opcode
  } else {
    form = kOneByte[opcode];
  }
  if (form & kBad) {
    out->read = static_cast<uint8_t>(pos);  // up to the invalid opcode
    return false;
  }
  X86Insn insn;
  uint8_t modrm = 0;
  if (form & kModRM) {
    if (pos >= limit) return false;
    modrm = code[pos++];
    unsigned mod = modrm >> 6, rm = modrm & 7;
    if (mod != 3 && !(form & kRegOnly)) {
      bool sib_base5 = false;
      if (rm == 4) {
        if (pos >= limit) return false;
        sib_base5 = (code[pos++] & 7) == 5;
      }
      insn.disp_offset = static_cast<uint8_t>(pos);
      if (mod == 1) {
        insn.disp_size = 1;
      } else if (mod == 2 || (mod == 0 && (rm == 5 || sib_base5))) {
        insn.disp_size = 4;
        insn.rip_relative = mod == 0 && rm == 5;
      }
      pos += insn.disp_size;
    }
    relative_c7 = opcode == 0xC7 && modrm == 0xF8;  // XBEGIN
  }
  unsigned reg = (modrm >> 3) & 7;
  uint8_t z = opsize16 && !rex_w ? 2 : 4;
  uint8_t imm = 0, extra = 0;
  switch (form & kImmMask) {
    case kB: imm = 1; break;
    case kW: imm = 2; break;
    case kZ: imm = z; break;
    case kV: imm = rex_w ? 8 : z; break;
    case kJ: imm = 4; break;
    case kWB:
      imm = 2;
      extra = 1;
      break;
    case kTestB: imm = reg < 2 ? 1 : 0; break;
    case kTestZ: imm = reg < 2 ? z : 0; break;
    case kD: imm = 4; break;
    case kMoffs:
      insn.disp_offset = static_cast<uint8_t>(pos);
      insn.disp_size = addr32 ? 4 : 8;
      pos += insn.disp_size;
      break;
    default: break;
  }
  if (imm > 0) {
    insn.imm_offset = static_cast<uint8_t>(pos);
    insn.imm_size = imm;
    insn.imm_relative = (form & kImmMask) == kJ || relative_c7;
  }
  pos += imm + extra;
  if (pos > limit) return false;
  insn.length = insn.read = static_cast<uint8_t>(pos);
  *out = insn;
  return true;
}

}  // namespace x86_detail

}  // namespace outpost::delta
