package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/journeyd/journeyd/collector/emaillink"
)

func init() {
	register("sign", "sign an email or ad link: print its click link /r/<token> and open pixel /o/<token>.gif", runSign)
}

// runSign is `journeyd sign`.
func runSign(_ context.Context, args []string) error {
	return sign(args, os.Stdout, os.Stderr)
}

func sign(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var l emaillink.Link
	fs.StringVar(&l.SiteID, "site", "", "site id the touchpoints belong to (required)")
	fs.StringVar(&l.URL, "url", "", "where the click link leads: an absolute http or https URL (required)")
	fs.StringVar(&l.Campaign, "campaign", "", "campaign name, stored as campaign (required)")
	fs.StringVar(&l.Source, "source", "email", "source, e.g. the mailing tool or list")
	fs.StringVar(&l.Medium, "medium", "email", "medium; \"email\" gives the channel Email")
	fs.StringVar(&l.Content, "content", "", "content: which link or banner of the message")
	fs.StringVar(&l.Term, "term", "", "term")
	fs.StringVar(&l.UserID, "user-id", "", "the recipient's user id, when known")
	fs.StringVar(&l.AnonID, "anon-id", "", "the recipient's anonymous id, when known")
	var expires time.Duration
	fs.Var(durationFlag{&expires}, "expires", "how long the links work, e.g. 30d or 8d12h; after it the click link answers 410 and the open pixel records nothing (default: never)")
	base := fs.String("base", defaultSignBase(), "public URL of journeyd the links point to (env JOURNEYD_BASE_URL)")
	keysFile := fs.String("link-keys-file", "", "file holding the signing keys as id:secret,id:secret; default: env JOURNEYD_LINK_KEYS, else the file env JOURNEYD_LINK_KEYS_FILE names (make run sets it in "+devEnvFile+"). The last key signs")
	asJSON := fs.Bool("json", false, "print token, click_url and open_url as JSON")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: journeyd sign --site S --url URL --campaign C [flags]\n\n"+
			"Prints a signed click link and open pixel for an email or an ad. A click records an\n"+
			"email_click touchpoint and redirects to --url; the pixel records an email_open.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if l.SiteID == "" || l.URL == "" || l.Campaign == "" {
		fs.Usage()
		return fmt.Errorf("--site, --url and --campaign are required")
	}
	if expires > 0 {
		l.ExpiresAt = time.Now().Add(expires).Unix()
	}
	urls, err := signLink(*keysFile, *base, l)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(urls)
	}
	_, err = fmt.Fprintf(stdout, "click: %s\nopen:  %s\n", urls.Click, urls.Open)
	return err
}

func signLink(keysFile, base string, l emaillink.Link) (emaillink.URLs, error) {
	if keysFile == "" && os.Getenv("JOURNEYD_LINK_KEYS") == "" {
		keysFile = os.Getenv("JOURNEYD_LINK_KEYS_FILE")
		if keysFile == "" {
			return emaillink.URLs{}, fmt.Errorf("cannot sign a link: no link keys: set JOURNEYD_LINK_KEYS=id:secret (the keys journeyd serve runs with) or give --link-keys-file FILE; make run keeps its keys in var/link-keys")
		}
	}
	keys, err := emaillink.LoadKeys(keysFile)
	if err != nil {
		return emaillink.URLs{}, fmt.Errorf("cannot sign a link: %w (keys from JOURNEYD_LINK_KEYS or --link-keys-file)", err)
	}
	s, err := emaillink.NewSigner(keys)
	if err != nil {
		return emaillink.URLs{}, err
	}
	return s.SignURLs(base, l)
}

// defaultSignBase is JOURNEYD_BASE_URL, else the default listen address.
func defaultSignBase() string {
	if v := os.Getenv("JOURNEYD_BASE_URL"); v != "" {
		return v
	}
	return "http://127.0.0.1:8080"
}
