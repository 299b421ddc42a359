// Package bundle turns the readable tracker source into the minified scripts that journeyd
// serves. It owns the esbuild options and the list of builds, so that the generator
// (snippet/build) and the test that catches a stale build produce the same bytes. It is
// internal: the server binary embeds the results and never links esbuild.
package bundle

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// Target is the oldest JavaScript the minified script may need: optional chaining, ??,
// ||= and object spread, present in every browser released since 2021.
const Target = api.ES2021

// Build is one minified form of the tracker.
type Build struct {
	// File is the name of the minified file in the snippet folder.
	File string
	// Full turns on the parts the default build leaves out to stay under its size budget:
	// the pixel fallback after a failed fetch, and middle-click tracking of links.
	Full bool
}

// Builds lists every build, the default one first.
var Builds = []Build{
	{File: "t.min.js"},
	{File: "t.full.min.js", Full: true},
}

// Minify returns the minified form of the tracker source src for build b. The result is
// deterministic.
func Minify(src []byte, b Build) ([]byte, error) {
	res := api.Transform(string(src), api.TransformOptions{
		Loader:            api.LoaderJS,
		Target:            Target,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		LegalComments:     api.LegalCommentsNone,
		Charset:           api.CharsetUTF8,
		Define:            map[string]string{"FULL": strconv.FormatBool(b.Full)},
	})
	if len(res.Errors) > 0 {
		msgs := make([]string, 0, len(res.Errors))
		for _, m := range res.Errors {
			where := ""
			if m.Location != nil {
				where = fmt.Sprintf("%d:%d: ", m.Location.Line, m.Location.Column)
			}
			msgs = append(msgs, where+m.Text)
		}
		return nil, fmt.Errorf("cannot minify tracker source for %s: %s", b.File, strings.Join(msgs, "; "))
	}
	return res.Code, nil
}
