// Reads arbitrary bytes as an ELF file the way the ELF_REF method does (delta/elf_refs.h): the
// layout, every reference field, and the property the method rests on: the masked file has the
// same fields (each at its mask value), so an applier finds what the encoder masked. Also decodes
// the bytes as x86-64 code (delta/x86_decode.h): every field lies inside its instruction, and a
// failed decode read no more than it was given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

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
  return 0;
}
