// A program built twice (SAMPLE_VERSION 1 and 2) by delta/CMakeLists.txt: the ELF_REF tests'
// pair of real ELF files. Version 2 adds code early in .text and data early in .data/.bss, so
// nearly every call, branch and RIP-relative operand after them changes, as in a rebuilt binary.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char* messages[8] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"};
int table[64] = {1, 2, 3, 5, 8, 13, 21, 34};
#if SAMPLE_VERSION == 2
int added_table[32] = {7, 7, 7};
long added_counter;
__attribute__((noinline)) int added_function(int x) { return added_table[x & 31] + (int)added_counter++; }
#endif
long counter;
char scratch[256];

__attribute__((noinline)) int helper(int x) {
  counter += x;
#if SAMPLE_VERSION == 2
  counter += added_function(x);
#endif
  return table[x & 63] ^ (int)counter;
}

#define F(n)                                                                         \
  __attribute__((noinline)) int f##n(int x) {                                        \
    if (x > n) return helper(x - n) + table[(x + n) & 63];                           \
    snprintf(scratch, sizeof(scratch), "%s-%d", messages[(n) % 8], x);               \
    return (int)strlen(scratch) + (x < 3 ? helper(x + n) : (int)counter);            \
  }
#define F10(n) F(n##0) F(n##1) F(n##2) F(n##3) F(n##4) F(n##5) F(n##6) F(n##7) F(n##8) F(n##9)
F10(1) F10(2) F10(3) F10(4) F10(5) F10(6) F10(7) F10(8) F10(9)

typedef int (*Fn)(int);
#define P(n) f##n,
#define P10(n) P(n##0) P(n##1) P(n##2) P(n##3) P(n##4) P(n##5) P(n##6) P(n##7) P(n##8) P(n##9)
static Fn functions[] = {P10(1) P10(2) P10(3) P10(4) P10(5) P10(6) P10(7) P10(8) P10(9)};

int main(int argc, char** argv) {
  int sum = 0;
  for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); ++i) sum += functions[i](argc + (int)i);
  if (argc > 1) sum += atoi(argv[1]);
  printf("%d %ld\n", sum, counter);
  return 0;
}
