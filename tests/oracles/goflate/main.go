// goflate compresses stdin to stdout with Go's own compress/flate or compress/gzip: the oracle
// that outpost's Go encoder (deflate/go_flate.h) is compared against, byte for byte.
//
//	goflate -level 6 < in > out.deflate            raw deflate, one Write of the whole input
//	goflate -level 6 -gzip < in > out.gz           gzip framing (Docker's layer format)
//	goflate -level 6 -chunk 1000 -flush 5000 ...   Write 1000 bytes at a time, Flush after
//	                                               every 5000 bytes written
//	goflate -level 6 -gzip -bench < in             time compression of the in-memory input to
//	                                               a byte counter; prints "<wall seconds>
//	                                               <cpu seconds> <bytes out>"
package main

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

func main() {
	level := flag.Int("level", 6, "compression level, -2..9")
	useGzip := flag.Bool("gzip", false, "write gzip instead of raw deflate")
	chunk := flag.Int("chunk", 0, "bytes per Write call (0: the whole input at once)")
	flushEvery := flag.Int("flush", 0, "call Flush after every this many input bytes (0: never)")
	bench := flag.Bool("bench", false, "time compression to io.Discard instead of writing output")
	flag.Parse()

	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	var out io.Writer = os.Stdout
	var counter countingWriter
	if *bench {
		out = &counter
	}
	start := time.Now()
	cpuStart := cpuSeconds()
	if err := compress(out, input, *level, *useGzip, *chunk, *flushEvery); err != nil {
		fail(err)
	}
	if *bench {
		fmt.Printf("%.6f %.6f %d\n", time.Since(start).Seconds(), cpuSeconds()-cpuStart, counter.n)
	}
}

type flushWriteCloser interface {
	io.WriteCloser
	Flush() error
}

func compress(out io.Writer, input []byte, level int, useGzip bool, chunk, flushEvery int) error {
	var w flushWriteCloser
	var err error
	if useGzip {
		w, err = gzip.NewWriterLevel(out, level)
	} else {
		w, err = flate.NewWriter(out, level)
	}
	if err != nil {
		return err
	}
	if chunk <= 0 {
		chunk = len(input) + 1
	}
	sinceFlush := 0
	r := bytes.NewReader(input)
	buf := make([]byte, chunk)
	for {
		n, _ := r.Read(buf)
		if n == 0 {
			break
		}
		for p := buf[:n]; len(p) > 0; {
			k := len(p)
			if flushEvery > 0 && sinceFlush+k > flushEvery {
				k = flushEvery - sinceFlush
			}
			if _, err := w.Write(p[:k]); err != nil {
				return err
			}
			p = p[k:]
			sinceFlush += k
			if flushEvery > 0 && sinceFlush == flushEvery {
				if err := w.Flush(); err != nil {
					return err
				}
				sinceFlush = 0
			}
		}
	}
	return w.Close()
}

// cpuSeconds is the CPU time (user + system) of the whole process so far, GC included.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fail(err)
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "goflate:", err)
	os.Exit(1)
}
