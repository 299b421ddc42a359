package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/journeyd/journeyd/collector/site"
	"github.com/journeyd/journeyd/sql/analysis/report"
)

// config is everything `journeyd serve` can be told. Precedence: command-line flag, then
// JOURNEYD_* environment variable, then the config file, then the default.
type config struct {
	Listen         string   `yaml:"listen"`
	ClickHouse     string   `yaml:"clickhouse"`
	GeoIP          string   `yaml:"geoip"`
	TrustedProxies []string `yaml:"trusted_proxies"`
	KeepIP         bool     `yaml:"keep_ip"`
	LogLevel       string   `yaml:"log_level"`
	LogFormat      string   `yaml:"log_format"`
	Migrate        bool     `yaml:"migrate"`
	Demo           bool     `yaml:"demo"`
	DebugListen    string   `yaml:"debug_listen"`

	BatchSize     int           `yaml:"batch_size"`
	FlushInterval time.Duration `yaml:"flush_interval"`
	Inserts       int           `yaml:"inserts"`
	QueueSize     int           `yaml:"queue_size"`
	DeadLetter    string        `yaml:"dead_letter"`

	SpoolDir            string        `yaml:"spool_dir"`
	SpoolMaxBytes       int64         `yaml:"spool_max_bytes"`
	SpoolCommitInterval time.Duration `yaml:"spool_commit_interval"`

	SessionTimeout   time.Duration `yaml:"session_timeout"`
	SessionMaxLength time.Duration `yaml:"session_max_length"`
	SessionMemory    int64         `yaml:"session_memory"`
	DedupWindow      time.Duration `yaml:"dedup_window"`
	ErasurePoll      time.Duration `yaml:"erasure_poll"`
	ReportStoreBytes int64         `yaml:"report_store_bytes"`
	ReportStoreDir   string        `yaml:"report_store_dir"`
	ReportWarm       bool          `yaml:"report_warm"`
	ReportWarmEvery  time.Duration `yaml:"report_warm_every"`
	HugeHeapBytes    int64         `yaml:"huge_heap_bytes"`

	// Secrets: from the environment or from a file, never from the config file itself.
	AdminTokenFile   string `yaml:"admin_token_file"`
	LinkKeysFile     string `yaml:"link_keys_file"`
	AdminToken       string `yaml:"-"`
	LinkKeys         string `yaml:"-"`
	CookielessSecret string `yaml:"-"`

	Sites []site.Site `yaml:"sites"`
}

func defaultConfig() config {
	return config{
		Listen:              "127.0.0.1:8080",
		ClickHouse:          "clickhouse://127.0.0.1:9000/journeyd",
		LogLevel:            "info",
		LogFormat:           "text",
		Migrate:             true,
		BatchSize:           100000,
		FlushInterval:       2 * time.Second,
		Inserts:             2,
		QueueSize:           300000,
		DeadLetter:          "journeyd-dead-letter.jsonl",
		SpoolDir:            "journeyd-spool",
		SpoolMaxBytes:       1 << 30,
		SpoolCommitInterval: 200 * time.Millisecond,
		SessionTimeout:      30 * time.Minute,
		SessionMaxLength:    24 * time.Hour,
		SessionMemory:       256 << 20,
		DedupWindow:         24 * time.Hour,
		ErasurePoll:         5 * time.Second,
		ReportStoreBytes:    defaultStoreBytes("/", goMemoryLimit()),
		ReportWarm:          true,
		ReportWarmEvery:     10 * time.Minute,
		HugeHeapBytes:       -1,
	}
}

// configFlags binds the scalar settings to fs, with the help text `serve -h` prints.
func configFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.Listen, "listen", c.Listen, "address the HTTP server listens on")
	fs.StringVar(&c.ClickHouse, "clickhouse", c.ClickHouse, "ClickHouse DSN, native protocol: clickhouse://[user[:password]@]host:port/database")
	fs.StringVar(&c.GeoIP, "geoip", c.GeoIP, "MaxMind GeoIP2/GeoLite2 City or Country .mmdb file; empty: no geo (reloaded on SIGHUP)")
	fs.Func("trusted-proxies", "comma-separated CIDRs whose X-Forwarded-For / X-Real-IP are believed", func(s string) error {
		c.TrustedProxies = splitList(s)
		return nil
	})
	fs.BoolVar(&c.KeepIP, "keep-ip", c.KeepIP, "store full client IPs for every site (default: anonymise IPv4 to /24, IPv6 to /48)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json")
	fs.BoolVar(&c.Migrate, "migrate", c.Migrate, "apply the schema migrations at start")
	fs.BoolVar(&c.Demo, "demo", c.Demo, "serve the demo shop at /demo/")
	fs.StringVar(&c.DebugListen, "debug-listen", c.DebugListen, "address of a separate net/http server with /debug/pprof/ (keep it on loopback); empty: off")
	fs.IntVar(&c.BatchSize, "batch-size", c.BatchSize, "rows per ClickHouse insert, at most")
	fs.DurationVar(&c.FlushInterval, "flush-interval", c.FlushInterval, "longest time an event waits before its batch is inserted")
	fs.IntVar(&c.Inserts, "inserts", c.Inserts, "ClickHouse inserts in flight at once")
	fs.IntVar(&c.QueueSize, "queue-size", c.QueueSize, "events the writer holds in memory; beyond it the spool takes the excess on disk and replays it as the queue frees (only without --spool-dir does a full queue make the server API answer 503)")
	fs.StringVar(&c.DeadLetter, "dead-letter", c.DeadLetter, "JSON-lines file for rows ClickHouse rejects, with the reason")
	fs.StringVar(&c.SpoolDir, "spool-dir", c.SpoolDir, "directory of the disk spool that holds accepted events until ClickHouse has them; empty: no spool (a crash loses the events in memory)")
	fs.Int64Var(&c.SpoolMaxBytes, "spool-max-bytes", c.SpoolMaxBytes, "bytes of accepted events that ClickHouse does not have yet at which the spool refuses more: the server API answers 503, pixels and beacons are dropped (X-Journeyd-Reject: full); what ClickHouse has stored does not count. Give it at least one --flush-interval of traffic; the segment files take about an eighth more")
	fs.DurationVar(&c.SpoolCommitInterval, "spool-commit-interval", c.SpoolCommitInterval, "longest time a pixel or beacon event waits before the spool writes and fsyncs it. Pixels and beacons are answered at once: a kill -9 (or a power loss) loses those answered since the last commit, at most this interval of them; SIGTERM loses none. Server API batches are fsynced before they are answered: a crash loses none of them")
	fs.DurationVar(&c.SessionTimeout, "session-timeout", c.SessionTimeout, "idle time that ends a session")
	fs.DurationVar(&c.SessionMaxLength, "session-max-length", c.SessionMaxLength, "longest session")
	fs.Int64Var(&c.SessionMemory, "session-memory", c.SessionMemory, "bytes of visitor state the sessionizer keeps before evicting idle visitors")
	fs.DurationVar(&c.DedupWindow, "dedup-window", c.DedupWindow, "how long a messageId is remembered to drop duplicates")
	fs.DurationVar(&c.ErasurePoll, "erasure-poll", c.ErasurePoll, "how often the erasures (journeyd erase) are read; journeyd erase --collectors applies one at once")
	fs.Int64Var(&c.ReportStoreBytes, "report-store-bytes", c.ReportStoreBytes, "bytes of the reports' rows of past days kept in memory (and as much again at most for the groups of the last few reads; default 1/8 of the memory, or of the cgroup's limit or GOMEMLIMIT when lower, at least 1 GiB, at most 8 GiB and a quarter of the memory), so that attribution, paths, time-to-convert, channels, the overview, the top pages, the journey map, retention, the funnel and barriers read from ClickHouse only the days whose events changed since (the least recently used days are evicted); 0: keep none")
	fs.StringVar(&c.ReportStoreDir, "report-store-dir", c.ReportStoreDir, "directory that keeps the report store's days on disk too, each written once in the background when stored, so that a restart starts with them (loaded within --report-store-bytes; a day whose events changed meanwhile is read again); one journeyd per directory; empty: the store is in memory only and starts empty")
	fs.BoolVar(&c.ReportWarm, "report-warm", c.ReportWarm, "once ready, read into the report store the days the dashboard opens on (every panel it opens with over the last 30 days, and the overview's 30 before, for every site, one report after the other), so that the first analyst after a start does not wait for them")
	fs.DurationVar(&c.ReportWarmEvery, "report-warm-every", c.ReportWarmEvery, "with --report-warm, warm the store again this often: only the days whose events changed since are read (today's, a late event's), so that the dashboard finds them kept however long since anyone opened it; 0: only at start")
	fs.Int64Var(&c.HugeHeapBytes, "huge-heap-bytes", c.HugeHeapBytes, "bytes of the heap that transparent huge pages may back where the kernel gives them only on request (transparent_hugepage/enabled: madvise, Debian's default): the reports' reads then map their memory in 2 MiB pages instead of faulting it in 4 KiB ones, a quarter of a first dashboard open's CPU; -1: twice --report-store-bytes and 2 GiB more, at most half the memory; 0: off")
	fs.StringVar(&c.AdminTokenFile, "admin-token-file", c.AdminTokenFile, "file holding the admin token for /api/v1 and /dashboard (or env JOURNEYD_ADMIN_TOKEN)")
	fs.StringVar(&c.LinkKeysFile, "link-keys-file", c.LinkKeysFile, "file holding the email link signing keys as id:secret,id:secret (or env JOURNEYD_LINK_KEYS)")
}

// loadConfig parses args into a config: defaults, then the --config file, then JOURNEYD_*
// environment variables, then the flags themselves. extra binds a command's own flags.
// Every setting is a flag: this is serve's command line.
func loadConfig(name string, args []string, extra func(*flag.FlagSet)) (*config, *flag.FlagSet, error) {
	return loadCommandConfig(name, args, nil, extra, nil)
}

// loadCommandConfig is loadConfig for a command that takes only some settings as flags
// (settings lists them, by flag name; nil: all). The config file is read whole all the
// same (a report takes the sites' conversions from it). usage, when not nil, prints the
// command's help before its flags; the default is serve's.
func loadCommandConfig(name string, args []string, settings []string, extra func(*flag.FlagSet), usage func(io.Writer)) (*config, *flag.FlagSet, error) {
	c := defaultConfig()
	fs := flag.NewFlagSet("journeyd "+name, flag.ContinueOnError)
	path := os.Getenv("JOURNEYD_CONFIG")
	fs.StringVar(&path, "config", path, "YAML config file with the sites and any of the settings below (keys as the flags, with _ for -) (env JOURNEYD_CONFIG)")
	if settings == nil {
		configFlags(fs, &c)
	} else {
		all := flag.NewFlagSet("", flag.ContinueOnError)
		configFlags(all, &c)
		for _, s := range settings {
			f := all.Lookup(s)
			if f == nil {
				panic("loadCommandConfig: no setting " + s)
			}
			fs.Var(f.Value, f.Name, f.Usage)
		}
	}
	if extra != nil {
		extra(fs)
	}
	fs.Usage = func() { configUsage(fs) }
	if usage != nil {
		fs.Usage = func() {
			usage(fs.Output())
			fmt.Fprintf(fs.Output(), "\nFlags (each also JOURNEYD_<FLAG>, upper case, - as _):\n")
			fs.PrintDefaults()
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if path != "" {
		if err := readConfigFile(path, &c); err != nil {
			return nil, nil, err
		}
	}
	if err := applyEnv(fs); err != nil {
		return nil, nil, err
	}
	if err := fs.Parse(args); err != nil { // flags win over file and environment
		return nil, nil, err
	}
	if err := c.loadSecrets(); err != nil {
		return nil, nil, err
	}
	if err := c.validate(path); err != nil {
		return nil, nil, err
	}
	return &c, fs, nil
}

func readConfigFile(path string, c *config) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cannot read config file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) { // io.EOF: an empty file
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// applyEnv sets every flag not given on the command line from JOURNEYD_<FLAG>, with - as _.
func applyEnv(fs *flag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		env := "JOURNEYD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok && err == nil {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("environment %s=%q: %w", env, v, e)
			}
		}
	})
	return err
}

func (c *config) loadSecrets() error {
	c.AdminToken = os.Getenv("JOURNEYD_ADMIN_TOKEN")
	c.LinkKeys = os.Getenv("JOURNEYD_LINK_KEYS")
	c.CookielessSecret = os.Getenv("JOURNEYD_COOKIELESS_SECRET")
	for _, s := range []struct {
		file string
		dst  *string
	}{
		{c.AdminTokenFile, &c.AdminToken}, {c.LinkKeysFile, &c.LinkKeys},
	} {
		if s.file == "" || *s.dst != "" {
			continue
		}
		b, err := os.ReadFile(s.file)
		if err != nil {
			return fmt.Errorf("cannot read secret file: %w", err)
		}
		*s.dst = strings.TrimSpace(string(b))
	}
	return nil
}

// validate checks the settings; a problem names the file, the key and what is wrong.
func (c *config) validate(path string) error {
	where := "config"
	if path != "" {
		where = "config file " + path
	}
	bad := func(key, format string, a ...any) error {
		return fmt.Errorf("%s: %s: %s", where, key, fmt.Sprintf(format, a...))
	}
	switch {
	case c.Listen == "":
		return bad("listen", "must not be empty")
	case !strings.HasPrefix(c.ClickHouse, "clickhouse://"):
		return bad("clickhouse", "%q: want clickhouse://host:port/database", c.ClickHouse)
	case c.BatchSize < 1:
		return bad("batch_size", "%d: must be at least 1", c.BatchSize)
	case c.Inserts < 1:
		return bad("inserts", "%d: must be at least 1", c.Inserts)
	case c.QueueSize < c.BatchSize:
		return bad("queue_size", "%d: must be at least batch_size (%d)", c.QueueSize, c.BatchSize)
	case c.FlushInterval <= 0:
		return bad("flush_interval", "%v: must be positive", c.FlushInterval)
	case c.SpoolDir != "" && c.SpoolMaxBytes < 1<<20:
		return bad("spool_max_bytes", "%d: must be at least 1 MiB", c.SpoolMaxBytes)
	case c.SpoolDir != "" && c.SpoolCommitInterval <= 0:
		return bad("spool_commit_interval", "%v: must be positive", c.SpoolCommitInterval)
	case c.SessionTimeout <= 0 || c.SessionMaxLength < c.SessionTimeout:
		return bad("session_timeout", "%v (max length %v): want 0 < timeout <= max length", c.SessionTimeout, c.SessionMaxLength)
	case c.ErasurePoll <= 0:
		return bad("erasure_poll", "%v: must be positive", c.ErasurePoll)
	case c.LogFormat != "text" && c.LogFormat != "json":
		return bad("log_format", "%q: want text or json", c.LogFormat)
	}
	if _, err := site.NewRegistry(append([]site.Site(nil), c.Sites...)); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func configUsage(fs *flag.FlagSet) {
	fmt.Fprintf(fs.Output(), `Usage: %s [flags]

Settings come from, in increasing precedence: defaults, the YAML file given by --config,
environment variables JOURNEYD_<FLAG> (upper case, - as _, e.g. JOURNEYD_LISTEN), flags.
The file also holds the sites (see deploy/journeyd.example.yaml):

  sites:
    - id: shop                        # site id: data-site of the snippet, ?s= of the pixel
      origins: [https://shop.example] # origins allowed to POST /e ("*.example" for subdomains)
      write_keys: [key-from-env-or-here]  # Segment write keys of the server API
      internal_domains: [pay.example] # referrers that count as internal navigation
      keep_ip: false                  # store full IPs for this site
      cookieless: false               # hash of site+IP+UA (daily salt) instead of cookies
      respect_dnt: false              # drop browser events with DNT: 1 or Sec-GPC: 1
      channels:                       # overrides of the default channel grouping
        sources: {social: [club.example]}   # extra hosts per kind: search, social, video, shopping, email
        rules:                        # checked in order before the default rules
          - {channel: Partners, medium: [partner]}
      conversions:                    # what the reports count as a conversion (default: purchase:
                                      #   an event named purchase, order_paid or Order Completed)
        - {name: purchase, event: "event:purchase|server:order_paid", value: revenue}
        - {name: lead, event: "server:lead_created", where: {status: new}}
      stages:                         # the journey map (default: awareness, consideration,
        - {name: awareness, match: "*"}     #   decision, purchase, retention, advocacy)
        - {name: purchase, match: "conversion"}   # the site's purchase conversion
        - {name: retention, match: "conversion", repeat: true}

Secrets come only from the environment or a file: JOURNEYD_ADMIN_TOKEN (or
--admin-token-file), JOURNEYD_LINK_KEYS (or --link-keys-file), and
JOURNEYD_COOKIELESS_SECRET (keys the daily salt of cookieless ids; the same on every node).

Flags:
`, fs.Name())
	fs.PrintDefaults()
}

// durationFlag is a flag.Value holding a positive duration written as the reports read
// one: 36h, 30m, 7d or 8d12h.
type durationFlag struct{ d *time.Duration }

// durationVar defines a duration flag that also takes days (7d, 8d12h).
func durationVar(fs *flag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var(durationFlag{p}, name, usage)
}

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	d, err := report.ParseDuration(s)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}
