package pixel

import "github.com/valyala/fasthttp"

// GIF is the 43-byte transparent 1×1 GIF every pixel endpoint answers with.
var GIF = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00" +
	"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// RejectHeader names, in a pixel's answer, why its hit was not recorded.
const RejectHeader = "X-Journeyd-Reject"

// Answer writes the pixel's answer: always 200 with GIF and Cache-Control: no-store, so
// that a broken image never breaks a page; a non-empty reason goes in RejectHeader.
func Answer(ctx *fasthttp.RequestCtx, reason string) {
	if reason != "" {
		ctx.Response.Header.Set(RejectHeader, reason)
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("image/gif")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetBody(GIF)
}
