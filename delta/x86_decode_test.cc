#include "delta/x86_decode.h"

#include <Zydis/Zydis.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "delta/elf_refs.h"
#include "delta/elf_test_files.h"

namespace outpost::delta {
namespace {

X86Insn Decoded(std::string_view bytes) {
  X86Insn insn;
  EXPECT_TRUE(DecodeX86(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &insn)) << bytes.size();
  return insn;
}

bool Decodes(std::string_view bytes) {
  X86Insn insn;
  return DecodeX86(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &insn);
}

// How many bytes a decode that fails read.
size_t ReadByFailure(std::string_view bytes) {
  X86Insn insn;
  EXPECT_FALSE(DecodeX86(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &insn));
  return insn.read;
}

TEST(X86Decode, AFailedDecodeSaysWhichBytesItRead) {
  EXPECT_EQ(ReadByFailure("\x06\x90\x90"), 1u);      // PUSH ES: invalid at its opcode
  EXPECT_EQ(ReadByFailure("\x66\x06\x90\x90"), 2u);  // a prefix, then the invalid opcode
  EXPECT_EQ(ReadByFailure(std::string_view("\x62\x04\x9E\x15\xFF\x62", 6)), 5u);  // EVEX map 4: no opcodes
  EXPECT_EQ(ReadByFailure(std::string_view("\xE8\x00\x00", 3)), 3u);  // cut off: all it was given
  EXPECT_EQ(ReadByFailure(std::string(16, '\x66')), 15u);  // too long: the 15 bytes an instruction may have
  EXPECT_EQ(Decoded(std::string_view("\x48\x8B\x05\x00\x00\x00\x00\x90", 8)).read, 7u);  // its length
}

TEST(X86Decode, FindsRelativeAndAbsoluteFieldsOfCommonInstructions) {
  X86Insn call = Decoded(std::string_view("\xE8\x01\x02\x03\x04", 5));
  EXPECT_EQ(call.length, 5);
  EXPECT_TRUE(call.imm_relative);
  EXPECT_EQ(call.imm_offset, 1);
  X86Insn load = Decoded(std::string_view("\x48\x8B\x05\x00\x00\x00\x00", 7));  // mov rax, [rip+0]
  EXPECT_EQ(load.length, 7);
  EXPECT_TRUE(load.rip_relative);
  EXPECT_EQ(load.disp_offset, 3);
  X86Insn store = Decoded(std::string_view("\xC7\x04\x25\x10\x20\x40\x00\x01\x00\x00\x00", 11));  // [abs32], imm32
  EXPECT_EQ(store.length, 11);
  EXPECT_FALSE(store.rip_relative);
  EXPECT_EQ(store.disp_size, 4);
  EXPECT_EQ(store.imm_offset, 7);
  EXPECT_EQ(store.imm_size, 4);
  EXPECT_FALSE(store.imm_relative);
  EXPECT_EQ(Decoded(std::string_view("\x66\x81\xC1\x34\x12", 5)).imm_size, 2);  // add cx, imm16
  EXPECT_EQ(Decoded(std::string_view("\x48\xB8\x01\x02\x03\x04\x05\x06\x07\x08", 10)).imm_size, 8);
  EXPECT_EQ(Decoded(std::string_view("\xF7\xC0\x01\x00\x00\x00", 6)).length, 6);  // test eax, imm32
  EXPECT_EQ(Decoded(std::string_view("\xF7\xD8", 2)).length, 2);                  // neg eax
  EXPECT_EQ(Decoded(std::string_view("\xC5\xF9\x6F\x05\x00\x00\x00\x00", 8)).disp_offset, 4);  // vmovdqa
  EXPECT_EQ(Decoded(std::string_view("\x62\xF1\x7D\x48\x6F\x05\x00\x00\x00\x00", 10)).length, 10);
}

TEST(X86Decode, DeclinesInvalidOpcodesAndInstructionsCutOffOrTooLong) {
  EXPECT_FALSE(Decodes(std::string_view("\x06", 1)));                  // PUSH ES
  EXPECT_FALSE(Decodes(std::string_view("\xE8\x01\x02\x03", 4)));      // cut off
  EXPECT_FALSE(Decodes(std::string(15, '\x66') + "\x90"));             // 16 bytes
  EXPECT_FALSE(Decodes(std::string_view("\x0F\x0B\x0F", 0)));          // nothing
}

// The fields ELF_REF uses, as (offset, size, relative) of the displacement and immediate.
struct Fields {
  int length;
  int disp_offset, disp_size;
  bool rip;
  int imm_offset, imm_size;
  bool imm_relative;
  bool operator==(const Fields&) const = default;
};

Fields FromZydis(const ZydisDecodedInstruction& z) {
  bool has_disp = z.raw.disp.size != 0;
  bool rip = (z.attributes & ZYDIS_ATTRIB_HAS_MODRM) != 0 && z.raw.modrm.mod == 0 && z.raw.modrm.rm == 5;
  return Fields{z.length,
                has_disp ? z.raw.disp.offset : 0,
                z.raw.disp.size / 8,
                rip && has_disp,
                z.raw.imm[0].size != 0 ? z.raw.imm[0].offset : 0,
                z.raw.imm[0].size / 8,
                z.raw.imm[0].size == 32 && z.raw.imm[0].is_relative != 0};  // rel8 is no field
}

Fields FromOurs(const X86Insn& x) {
  return Fields{x.length, x.disp_size != 0 ? x.disp_offset : 0, x.disp_size, x.rip_relative,
                x.imm_size != 0 ? x.imm_offset : 0, x.imm_size, x.imm_relative};
}

// Sweeps the executable sections of `file` with both decoders in step and counts the
// instructions where they differ.
size_t Disagreements(const std::string& file, size_t* instructions) {
  ZydisDecoder zydis;
  ZydisDecoderInit(&zydis, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisDecoderEnableMode(&zydis, ZYDIS_DECODER_MODE_MINIMAL, ZYAN_TRUE);
  ElfLayout layout = *ReadElfLayout(file);
  size_t differ = 0;
  for (const ElfSection& s : layout.sections) {
    if (!s.executable || !s.in_file) continue;
    for (uint64_t pos = s.offset, end = s.offset + s.size; pos < end;) {
      ZydisDecodedInstruction z;
      bool theirs = ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&zydis, nullptr, file.data() + pos, end - pos, &z));
      X86Insn x;
      bool ours = DecodeX86(reinterpret_cast<const uint8_t*>(file.data()) + pos, end - pos, &x);
      ++*instructions;
      if (theirs != ours || (ours && !(FromOurs(x) == FromZydis(z)))) {
        if (++differ <= 5) {
          Fields a = FromOurs(x), b = FromZydis(z);
          std::string hex;
          for (int i = 0; i < 12; ++i) hex += std::to_string(static_cast<uint8_t>(file[pos + i])) + " ";
          ADD_FAILURE() << "differ at file offset " << pos << " bytes " << hex << " ours " << ours << " " << a.length << " d" << a.disp_offset << "/" << a.disp_size << (a.rip ? "rip" : "") << " i" << a.imm_offset << "/" << a.imm_size << (a.imm_relative ? "rel" : "") << " zydis " << theirs << " " << b.length << " d" << b.disp_offset << "/" << b.disp_size << (b.rip ? "rip" : "") << " i" << b.imm_offset << "/" << b.imm_size << (b.imm_relative ? "rel" : "");
        }
      }
      pos += ours ? x.length : theirs ? z.length : 1;
    }
  }
  return differ;
}

// Everything DecodeX86 reports about the instruction at code[0], given `size` bytes.
struct Report {
  bool ok;
  X86Insn x;
  bool operator==(const Report& o) const {
    return ok == o.ok && x.length == o.x.length && x.read == o.x.read && x.disp_offset == o.x.disp_offset &&
           x.disp_size == o.x.disp_size && x.imm_offset == o.x.imm_offset && x.imm_size == o.x.imm_size &&
           x.rip_relative == o.x.rip_relative && x.imm_relative == o.x.imm_relative;
  }
};

Report Decode(const uint8_t* code, size_t size) {
  Report r{};
  r.ok = DecodeX86(code, size, &r.x);
  return r;
}

TEST(X86Decode, GivenFifteenBytesOrFourteenEveryInstructionOfThirteenOrFewerDecodesAlike) {
  // With 15 bytes or more DecodeX86 takes its table-driven path for the common instructions,
  // with fewer the step-by-step one; both must say the same for every instruction short enough
  // for both. Every decision reads prefix, opcode, ModRM and the SIB's base bits only, so all
  // of those are tried (no prefix or one REX, the one- and two-byte maps, 66 and F3 for a few).
  uint8_t code[16] = {};
  size_t tried = 0, differ = 0;
  for (int prefix = -1; prefix < 18; ++prefix) {
    size_t at = 0;
    if (prefix >= 0 && prefix < 16) code[at++] = static_cast<uint8_t>(0x40 + prefix);
    if (prefix == 16) code[at++] = 0x66;
    if (prefix == 17) code[at++] = 0xF3;
    for (int map = 0; map < 2; ++map) {
      size_t op_at = at;
      if (map == 1) code[op_at++] = 0x0F;
      for (int opcode = 0; opcode < 256; ++opcode) {
        code[op_at] = static_cast<uint8_t>(opcode);
        for (int modrm = 0; modrm < 256; ++modrm) {
          code[op_at + 1] = static_cast<uint8_t>(modrm);
          for (int base = 0; base < 8; ++base) {
            code[op_at + 2] = static_cast<uint8_t>(base);
            Report full = Decode(code, 15);
            if (full.ok && full.x.length > 13) continue;  // too long for the comparison
            ++tried;
            if (!(full == Decode(code, 14)) && ++differ <= 5) {
              ADD_FAILURE() << "prefix " << prefix << " map " << map << " opcode " << opcode << " modrm " << modrm
                            << " base " << base << " decode differently with 15 bytes and with 14";
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(differ, 0u);
  EXPECT_GT(tried, 19u * 2 * 256 * 256 * 7);
}

TEST(X86Decode, AgreesWithZydisOnEveryInstructionOfCompiledPrograms) {
  std::ifstream in("/proc/self/exe", std::ios::binary);
  std::ostringstream self;
  self << in.rdbuf();
  size_t instructions = 0;
  EXPECT_EQ(Disagreements(self.str(), &instructions), 0u);
  EXPECT_GT(instructions, 50000u);  // this test binary: gtest, the delta library
  for (const char* kind : {"pie", "nopie"}) EXPECT_EQ(Disagreements(testing::ElfSample(kind, 2), &instructions), 0u);
}

}  // namespace
}  // namespace outpost::delta
