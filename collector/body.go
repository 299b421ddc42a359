package collector

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/valyala/fasthttp"
)

// Body errors; handlers answer errTooLarge with 413, errEncoding with 415 and the rest
// with 400.
var (
	errTooLarge = errors.New("body too large")
	errEncoding = errors.New("unsupported Content-Encoding: send identity or gzip")
)

var gzipPool sync.Pool // *gzip.Reader

// readBody returns the request body of ctx, decompressed into w.body when it is gzip,
// refusing more than max bytes either way. A gzip bomb stops at max+1 bytes.
func (s *Server) readBody(ctx *fasthttp.RequestCtx, w *work, max int) ([]byte, error) {
	raw := ctx.Request.Body()
	enc := ctx.Request.Header.ContentEncoding()
	switch string(enc) {
	case "", "identity":
		if len(raw) > max {
			return nil, errTooLarge
		}
		return raw, nil
	case "gzip", "x-gzip":
		return gunzip(w, raw, max)
	}
	return nil, errEncoding
}

// gunzip decompresses raw into w.body, at most max bytes.
func gunzip(w *work, raw []byte, max int) ([]byte, error) {
	br := bytes.NewReader(raw)
	zr, _ := gzipPool.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(br)
	} else {
		err = zr.Reset(br)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot decompress gzip body: %w", err)
	}
	defer gzipPool.Put(zr)
	buf := bytes.NewBuffer(w.body[:0])
	n, err := buf.ReadFrom(io.LimitReader(zr, int64(max)+1))
	w.body = buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("cannot decompress gzip body: %w", err)
	}
	if n > int64(max) {
		return nil, errTooLarge
	}
	return w.body, nil
}
