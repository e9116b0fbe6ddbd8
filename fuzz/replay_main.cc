// Replays a seed corpus through a fuzz target without libFuzzer, so the normal (gcc) build runs
// every kept input as an ordinary test: `fuzz_replay_NAME fuzz/corpus/NAME`. Fails when the
// folder is missing or empty; a crash, sanitizer report or escaping exception fails the test.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  int inputs = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(argv[1], ec)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::printf("replay %s (%zu bytes)\n", entry.path().filename().c_str(), bytes.size());
    std::fflush(stdout);
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    ++inputs;
  }
  if (ec || inputs == 0) {
    std::fprintf(stderr, "%s: no seed inputs to replay\n", argv[1]);
    return 1;
  }
  std::printf("%d inputs replayed\n", inputs);
  return 0;
}
