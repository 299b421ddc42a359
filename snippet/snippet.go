// Package snippet owns the browser tracker: its readable source (src/t.js), the minified
// builds made from it with esbuild (t.min.js, t.full.min.js; `go generate ./snippet`), the
// fasthttp handler that serves them at /t.js, and the demo shop served at /demo/.
//
// It does not receive events: the tracker posts them to the collector's POST /e (and, in
// the full build, falls back to GET /p.gif), which the collector package owns.
//
// Builds: /t.js is the default build, kept under 1.5 KB gzipped by a test. /t.full.js adds
// what did not fit: the pixel fallback after a failed fetch and middle-click link tracking.
// Each also answers at a versioned URL, /t.<hash>.js and /t.full.<hash>.js, cached for a
// year; Path and FullPath return them.
package snippet

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
)

//go:generate go run ./build

//go:embed t.min.js
var defaultJS []byte

//go:embed t.full.min.js
var fullJS []byte

// asset is one build ready to serve: its bytes, gzipped bytes, content hash and ETag.
type asset struct {
	raw, gz []byte
	hash    string // the first 12 hex digits of the SHA-256 of raw
	etag    string // W/"<hash>": weak, so that one tag covers both encodings
}

var (
	defaultAsset = newAsset(defaultJS)
	fullAsset    = newAsset(fullJS)
)

func newAsset(raw []byte) *asset {
	sum := sha256.Sum256(raw)
	h := hex.EncodeToString(sum[:])[:12]
	return &asset{raw: raw, gz: gzipBytes(raw), hash: h, etag: `W/"` + h + `"`}
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid: no error
	zw.Write(b)                                              // writes to a bytes.Buffer do not fail
	zw.Close()
	return buf.Bytes()
}

// Script returns the default build: its bytes, the same gzipped, and its ETag. The slices
// are shared and must not be modified.
func Script() (raw, gzipped []byte, etag string) {
	return defaultAsset.raw, defaultAsset.gz, defaultAsset.etag
}

// FullScript is Script for the full build (/t.full.js).
func FullScript() (raw, gzipped []byte, etag string) {
	return fullAsset.raw, fullAsset.gz, fullAsset.etag
}

// Path returns the versioned URL path of the default build, e.g. /t.3f2a9c0d1b7e.js,
// which Handler serves with a one-year immutable cache.
func Path() string { return "/t." + defaultAsset.hash + ".js" }

// FullPath returns the versioned URL path of the full build.
func FullPath() string { return "/t.full." + fullAsset.hash + ".js" }
