// Reads arbitrary bytes as an ELF file the way the ELF_REF method does (delta/elf_refs.h): the
// layout, every reference field, and the property the method rests on: the masked file has the
// same fields (each at its mask value), so an applier finds what the encoder masked. Also decodes
// the bytes as x86-64 code (delta/x86_decode.h): every field lies inside its instruction, and a
// failed decode read no more than it was given. And sweeps a changed copy of the file with the
// file's decoding reused (delta/code_sweep.h): it must find what decoding the copy finds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "delta/bsdiff.h"
#include "delta/code_sweep.h"
#include "delta/elf_refs.h"
#include "delta/x86_decode.h"

namespace {

void CheckDecoder(const uint8_t* data, size_t size) {
  for (size_t pos = 0; pos < size;) {
    outpost::delta::X86Insn insn;
    if (!outpost::delta::DecodeX86(data + pos, size - pos, &insn)) {
      if (insn.read == 0 || insn.read > 15 || insn.read > size - pos) std::abort();
      ++pos;
      continue;
    }
    if (insn.length == 0 || insn.length > 15 || insn.length > size - pos || insn.read != insn.length) std::abort();
    if (insn.disp_size != 0 && insn.disp_offset + insn.disp_size > insn.length) std::abort();
    if (insn.imm_size != 0 && insn.imm_offset + insn.imm_size > insn.length) std::abort();
    pos += insn.length;
  }
}

// The masked fields of a copy of `file` with a few bytes changed (where the input's last bytes
// say), found with the decoding of masked `file` reused, are those a decode of the copy finds.
void CheckReuse(const std::string& file, const outpost::delta::ElfLayout& layout,
                const std::vector<outpost::delta::CodeRef>& refs) {
  using namespace outpost::delta;
  std::string copy = file;
  for (size_t i = 1; i <= 3 && i * 4 <= file.size(); ++i) {
    uint32_t at;
    std::memcpy(&at, file.data() + file.size() - i * 4, 4);
    copy[at % file.size()] = static_cast<char>(copy[at % file.size()] ^ (0x11 * i));
  }
  std::optional<ElfLayout> copy_layout = ReadElfLayout(copy);
  if (!copy_layout) return;
  CodeTrace trace;
  FindCodeRefs(file, layout, &trace);
  std::string masked = file, masked_copy = copy;
  MaskCodeRefs(&masked, refs);
  MaskCodeRefs(&masked_copy, FindCodeRefs(copy, *copy_layout));
  std::vector<BsdiffRegion> runs;
  BsdiffApply(masked, BsdiffPackRaw(BsdiffDiff(masked, masked_copy)), copy.size(), &runs);
  KnownCode known{masked, &layout, &refs, &trace, &runs};
  std::vector<CodeRef> decoded = FindCodeRefs(masked_copy, *copy_layout);
  std::vector<CodeRef> reused = FindCodeRefs(masked_copy, *copy_layout, nullptr, &known);
  if (decoded.size() != reused.size()) std::abort();
  for (size_t i = 0; i < decoded.size(); ++i) {
    const CodeRef& a = decoded[i];
    const CodeRef& b = reused[i];
    if (a.field != b.field || a.next_ip != b.next_ip || a.value != b.value || a.absolute != b.absolute ||
        a.data != b.data || a.eh != b.eh) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace outpost::delta;
  CheckDecoder(data, size);
  std::string file(reinterpret_cast<const char*>(data), size);
  std::optional<ElfLayout> layout = ReadElfLayout(file);
  if (!layout) return 0;
  std::vector<CodeRef> refs = FindCodeRefs(file, *layout);
  std::string masked = file;
  MaskCodeRefs(&masked, refs);
  std::optional<ElfLayout> again = ReadElfLayout(masked);
  if (!again) std::abort();
  std::vector<CodeRef> masked_refs = FindCodeRefs(masked, *again);
  if (masked_refs.size() != refs.size()) std::abort();
  for (size_t i = 0; i < refs.size(); ++i) {
    const CodeRef& a = refs[i];
    const CodeRef& b = masked_refs[i];
    uint32_t mask = a.data ? kMaskedPointer : 0;
    if (a.field != b.field || a.next_ip != b.next_ip || a.absolute != b.absolute || a.data != b.data ||
        a.eh != b.eh ||
        static_cast<uint32_t>(b.value) != mask || (i > 0 && refs[i - 1].field + 4 > a.field)) {
      std::abort();
    }
  }
  CheckReuse(file, *layout, refs);
  return 0;
}
