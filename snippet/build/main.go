// Command build regenerates the minified trackers (snippet/t.min.js and
// snippet/t.full.min.js) from snippet/src/t.js with esbuild. Run it with
// `go generate ./snippet` (or `make snippet`) after editing the source; a test in snippet
// fails while a committed build is stale.
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/journeyd/journeyd/snippet/internal/bundle"
)

func main() {
	dir := flag.String("dir", defaultDir(), "the snippet folder, holding src/t.js and the builds")
	flag.Parse()
	if err := build(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "snippet build:", err)
		os.Exit(1)
	}
}

// defaultDir is "." under go generate (which runs in snippet/) and "snippet" from the root.
func defaultDir() string {
	if _, err := os.Stat(filepath.Join("src", "t.js")); err == nil {
		return "."
	}
	return "snippet"
}

func build(dir string) error {
	src, err := os.ReadFile(filepath.Join(dir, "src", "t.js"))
	if err != nil {
		return fmt.Errorf("cannot read tracker source: %w", err)
	}
	for _, b := range bundle.Builds {
		out, err := bundle.Minify(src, b)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, b.File)
		if err := os.WriteFile(dst, out, 0o644); err != nil {
			return fmt.Errorf("cannot write %s: %w", dst, err)
		}
		fmt.Printf("%s: %d bytes, %d gzipped\n", dst, len(out), gzipLen(out))
	}
	return nil
}

func gzipLen(b []byte) int {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Len()
}
