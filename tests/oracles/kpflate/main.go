// Command kpflate is the test oracle for deflate/klauspost_flate: it compresses stdin to stdout
// with the klauspost/compress flate (and klauspost/pgzip) that Debian packages.
//
//	kpflate -level 5 [-dict FILE] [-flush N] < in > out.deflate   raw DEFLATE
//	kpflate -pgzip -level 5 [-block 1048576] < in > out.gz         pgzip gzip file
//
// -flush N calls Flush after every N input bytes (raw mode only).
// Build: GO111MODULE=off GOPATH=/usr/share/gocode go build -o kpflate .
package main

import (
	"bufio"
	"flag"
	"io"
	"log"
	"os"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/pgzip"
)

func main() {
	level := flag.Int("level", 5, "compression level (-2..9)")
	dictPath := flag.String("dict", "", "preset dictionary file (raw mode)")
	flushEvery := flag.Int("flush", 0, "sync flush after every N input bytes (raw mode)")
	pgz := flag.Bool("pgzip", false, "write a pgzip gzip file instead of raw deflate")
	block := flag.Int("block", 1<<20, "pgzip block size")
	flag.Parse()

	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		log.Fatal(err)
	}
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer out.Flush()

	if *pgz {
		w, err := pgzip.NewWriterLevel(out, *level)
		if err != nil {
			log.Fatal(err)
		}
		if err := w.SetConcurrency(*block, 4); err != nil {
			log.Fatal(err)
		}
		if _, err := w.Write(in); err != nil {
			log.Fatal(err)
		}
		if err := w.Close(); err != nil {
			log.Fatal(err)
		}
		return
	}

	var dict []byte
	if *dictPath != "" {
		if dict, err = os.ReadFile(*dictPath); err != nil {
			log.Fatal(err)
		}
	}
	w, err := flate.NewWriterDict(out, *level, dict)
	if err != nil {
		log.Fatal(err)
	}
	for len(in) > 0 {
		n := len(in)
		if *flushEvery > 0 && n > *flushEvery {
			n = *flushEvery
		}
		if _, err := w.Write(in[:n]); err != nil {
			log.Fatal(err)
		}
		in = in[n:]
		if *flushEvery > 0 {
			if err := w.Flush(); err != nil {
				log.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
}
