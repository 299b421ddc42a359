// Package browsertest starts the headless Chromium of journeyd's browser tests and opens
// tabs in it. It owns how the browser is found and launched (flags, a fresh profile, skip or
// fail without one); what the tests do in the pages is theirs. Only tests import it.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Timeout bounds each Do and Eval.
const Timeout = 20 * time.Second

// candidates are the browser binaries tried in order; Debian's chromium comes first.
var candidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "chrome"}

// Chromium returns the path of the browser. Without one the test skips, or fails when the
// environment has CI=true, where a skipped browser test would hide a broken build.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range candidates {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium found and CI=true: install it (make deps) to run the browser tests")
	}
	t.Skip("no Chromium found: install it (make deps) to run the browser tests")
	return ""
}

// Start starts a headless Chromium with a fresh profile in t.TempDir() and returns its
// context; the browser stops when t ends. extra adds allocator options to the defaults.
func Start(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("cannot start Chromium: %v", err)
	}
	return ctx
}

// Tab opens a tab in browser (a context from Start or from Tab) and returns its context;
// the tab closes when t ends. An isolated tab gets a browser context of its own (cookies
// and storage of its own, like a private window); otherwise it shares its parent's. Each
// script runs in every new document of the tab before the page's scripts.
func Tab(t testing.TB, browser context.Context, isolated bool, scripts ...string) context.Context {
	t.Helper()
	var opts []chromedp.ContextOption
	if isolated {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	ctx, cancel := chromedp.NewContext(browser, opts...)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("cannot open a tab: %v", err)
	}
	for _, src := range scripts {
		if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
			t.Fatalf("cannot add a script to the tab: %v", err)
		}
	}
	return ctx
}

// Do runs browser actions in the tab and fails the test on error.
func Do(t testing.TB, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// Eval evaluates js in the tab, awaiting a promise, and returns its result.
func Eval[T any](t testing.TB, ctx context.Context, js string) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(tctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("browser: evaluate %s: %v", js, err)
	}
	return v
}
