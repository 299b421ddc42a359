package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// grafanaDashboard is the part of deploy/grafana/journeyd.json the test reads.
type grafanaDashboard struct {
	UID    string `json:"uid"`
	Panels []struct {
		Type    string `json:"type"`
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// TestGrafanaDashboardMetrics: every metric the dashboard queries is one journeyd exports.
// The names come from a running journeyd's /metrics after a pixel and a refused pixel; the
// labelled error counters that stay empty until an error happens (insert errors, dead
// letters) are taken from the metric names declared in the code.
func TestGrafanaDashboardMetrics(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/grafana/journeyd.json")
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("deploy/grafana/journeyd.json is not valid JSON: %v", err)
	}
	a := startApp(t, e2eConfig)
	for _, site := range []string{"shop", "nosuchsite"} {
		get(t, a.URL+"/p.gif?s="+site+"&a=visitor-1&u=https%3A%2F%2Fshop.example%2F")
	}
	exported := map[string]bool{}
	for _, line := range strings.Split(get(t, a.URL+"/metrics"), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			exported[strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == ' ' })[0]] = true
		}
	}
	declared := declaredMetrics(t)
	metric := regexp.MustCompile(`\b(journeyd|process|go)_[a-z_]+\b`)
	queried := 0
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if p.Title == "" || len(p.Targets) == 0 {
			t.Errorf("panel %q has no title or no query", p.Title)
		}
		for _, target := range p.Targets {
			for _, name := range metric.FindAllString(target.Expr, -1) {
				queried++
				if exported[name] || declared[name] || declared[strings.TrimSuffix(name, "_bucket")] {
					continue
				}
				t.Errorf("panel %q queries %s, which journeyd does not export", p.Title, name)
			}
		}
	}
	if d.UID != "journeyd" || queried < 15 {
		t.Errorf("dashboard uid %q with %d metric references: not the journeyd dashboard", d.UID, queried)
	}
	for _, name := range []string{"journeyd_collector_requests_total", "journeyd_collector_rejected_total", "journeyd_writer_queue_depth"} {
		if !exported[name] {
			t.Errorf("%s is not in /metrics after a pixel and a refused one", name)
		}
	}
}

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// declaredMetrics returns the metric names declared (Name: "journeyd_...") in the code.
func declaredMetrics(t *testing.T) map[string]bool {
	t.Helper()
	decl := regexp.MustCompile(`Name:\s*"(journeyd_[a-z_]+)"`)
	names := map[string]bool{}
	for _, dir := range []string{"../../collector", "../../sessionizer", "../../spool", "../../sql"} {
		err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			src, err := os.ReadFile(path)
			for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
				names[m[1]] = true
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return names
}

// TestSystemdUnitFlags: the unit's ExecStart runs serve with flags serve has.
func TestSystemdUnitFlags(t *testing.T) {
	f, err := os.Open("../../deploy/systemd/journeyd.service")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var exec []string
	for s := bufio.NewScanner(f); s.Scan(); {
		if line, ok := strings.CutPrefix(s.Text(), "ExecStart="); ok {
			exec = strings.Fields(line)
		}
	}
	if len(exec) < 2 || filepath.Base(exec[0]) != "journeyd" || exec[1] != "serve" {
		t.Fatalf("ExecStart %q: want journeyd serve ...", exec)
	}
	if checkServeArgs(t, "ExecStart", exec[2:]) == 0 {
		t.Error("ExecStart passes no flag: where does the config come from?")
	}
}

// checkServeArgs reports every --flag in args that journeyd serve does not have, and
// returns how many flags it checked.
func checkServeArgs(t *testing.T, where string, args []string) int {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c := defaultConfig()
	configFlags(fs, &c)
	fs.String("config", "", "")
	checked := 0
	for _, arg := range args {
		if name, ok := strings.CutPrefix(arg, "--"); ok {
			checked++
			if fs.Lookup(strings.SplitN(name, "=", 2)[0]) == nil {
				t.Errorf("%s passes %s, which journeyd serve does not have", where, arg)
			}
		}
	}
	return checked
}

// flagValue returns the value of --name=value or --name value in args.
func flagValue(args []string, name string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// checkStateMounted reports a spool or dead letter that is not under one of the mounted
// paths: in a container, a crash would lose it.
func checkStateMounted(t *testing.T, where string, args, mounts []string) {
	t.Helper()
	for _, name := range []string{"spool-dir", "dead-letter"} {
		v := flagValue(args, name)
		if v == "" {
			t.Errorf("%s does not set --%s: its default is relative to the working directory", where, name)
			continue
		}
		if !slices.ContainsFunc(mounts, func(m string) bool { return strings.HasPrefix(v, strings.TrimSuffix(m, "/")+"/") }) {
			t.Errorf("%s: --%s %s is on no volume (mounts %v)", where, name, v, mounts)
		}
	}
}

// TestContainerManifests: the Dockerfile, the compose file and the Kubernetes manifest run
// serve with flags it has, keep the spool and the dead letter on a volume, probe the
// endpoints journeyd serves on the port it listens on, and leave the 30-second drain its
// time. Nothing here can run containers; this is what can be checked without.
func TestContainerManifests(t *testing.T) {
	// Dockerfile: the CMD is serve's arguments; the image's volume holds the state.
	docker, err := os.ReadFile("../../deploy/docker/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var cmd []string
	var volumes []string
	for _, line := range strings.Split(string(docker), "\n") {
		if v, ok := strings.CutPrefix(line, "CMD "); ok {
			if err := json.Unmarshal([]byte(v), &cmd); err != nil {
				t.Fatalf("Dockerfile CMD %s: %v", v, err)
			}
		}
		if v, ok := strings.CutPrefix(line, "VOLUME "); ok {
			volumes = append(volumes, strings.Fields(v)...)
		}
	}
	if len(cmd) == 0 || cmd[0] != "serve" || checkServeArgs(t, "Dockerfile CMD", cmd[1:]) == 0 {
		t.Errorf("Dockerfile CMD %q: want serve and its flags", cmd)
	}
	checkStateMounted(t, "Dockerfile", cmd, volumes)
	if !strings.Contains(string(docker), "go build") || !strings.Contains(string(docker), "./cmd/journeyd") {
		t.Error("the Dockerfile does not build ./cmd/journeyd")
	}

	// compose: journeyd's command and volumes, and a current ClickHouse beside it.
	var compose struct {
		Services map[string]struct {
			Image           string   `yaml:"image"`
			Command         []string `yaml:"command"`
			Volumes         []string `yaml:"volumes"`
			StopGracePeriod string   `yaml:"stop_grace_period"`
		} `yaml:"services"`
	}
	readYAML(t, "../../deploy/compose/compose.yaml", &compose)
	jd := compose.Services["journeyd"]
	if len(jd.Command) == 0 || jd.Command[0] != "serve" || checkServeArgs(t, "compose journeyd command", jd.Command[1:]) == 0 {
		t.Errorf("compose journeyd command %q: want serve and its flags", jd.Command)
	}
	var mounts []string
	for _, v := range jd.Volumes {
		if parts := strings.Split(v, ":"); len(parts) >= 2 {
			mounts = append(mounts, parts[1])
		}
	}
	checkStateMounted(t, "compose", jd.Command, mounts)
	if d, err := time.ParseDuration(jd.StopGracePeriod); err != nil || d <= 30*time.Second {
		t.Errorf("compose stop_grace_period %q: want more than the 30s drain", jd.StopGracePeriod)
	}
	if !strings.HasPrefix(compose.Services["clickhouse"].Image, "clickhouse/clickhouse-server:") {
		t.Errorf("compose ClickHouse image %q: want clickhouse/clickhouse-server", compose.Services["clickhouse"].Image)
	}
	var site struct {
		Sites []struct {
			ID string `yaml:"id"`
		} `yaml:"sites"`
	}
	readYAML(t, "../../deploy/compose/journeyd.yaml", &site)
	if _, _, err := loadConfig("serve", []string{"--config", "../../deploy/compose/journeyd.yaml"}, nil); err != nil || len(site.Sites) == 0 {
		t.Errorf("deploy/compose/journeyd.yaml is not a config serve takes, with a site: %v", err)
	}

	// Kubernetes: the StatefulSet's container, probes and volumes.
	checkKubernetes(t, "../../deploy/kubernetes/journeyd.yaml")
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// k8sObject is the part of a Kubernetes object the test reads.
type k8sObject struct {
	Kind string            `yaml:"kind"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Template struct {
			Spec struct {
				TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
				Containers                    []struct {
					Args           []string `yaml:"args"`
					ReadinessProbe k8sProbe `yaml:"readinessProbe"`
					LivenessProbe  k8sProbe `yaml:"livenessProbe"`
					Ports          []struct {
						Name          string `yaml:"name"`
						ContainerPort int    `yaml:"containerPort"`
					} `yaml:"ports"`
					VolumeMounts []struct {
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type k8sProbe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

func checkKubernetes(t *testing.T, path string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]k8sObject{}
	for dec := yaml.NewDecoder(bytes.NewReader(raw)); ; {
		var o k8sObject
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		kinds[o.Kind] = o
	}
	for _, kind := range []string{"ConfigMap", "StatefulSet", "Service"} {
		if _, ok := kinds[kind]; !ok {
			t.Errorf("%s has no %s", path, kind)
		}
	}
	conf := filepath.Join(t.TempDir(), "journeyd.yaml")
	if err := os.WriteFile(conf, []byte(kinds["ConfigMap"].Data["journeyd.yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadConfig("serve", []string{"--config", conf}, nil); err != nil {
		t.Errorf("the ConfigMap's journeyd.yaml is not a config serve takes: %v", err)
	}
	pod := kinds["StatefulSet"].Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("StatefulSet has %d containers, want journeyd's", len(pod.Containers))
	}
	c := pod.Containers[0]
	if len(c.Args) == 0 || c.Args[0] != "serve" || checkServeArgs(t, "StatefulSet args", c.Args[1:]) == 0 {
		t.Errorf("StatefulSet args %q: want serve and its flags", c.Args)
	}
	var mounts []string
	for _, m := range c.VolumeMounts {
		mounts = append(mounts, m.MountPath)
	}
	checkStateMounted(t, "StatefulSet", c.Args, mounts)
	if pod.TerminationGracePeriodSeconds <= 30 {
		t.Errorf("terminationGracePeriodSeconds %d: want more than the 30s drain", pod.TerminationGracePeriodSeconds)
	}
	_, port, _ := strings.Cut(flagValue(c.Args, "listen"), ":")
	for name, p := range map[string]k8sProbe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p.HTTPGet.Path != "/readyz" && p.HTTPGet.Path != "/healthz" {
			t.Errorf("%s probe path %q: journeyd serves /healthz and /readyz", name, p.HTTPGet.Path)
		}
		if len(c.Ports) == 0 || p.HTTPGet.Port != c.Ports[0].Name || strconv.Itoa(c.Ports[0].ContainerPort) != port {
			t.Errorf("%s probe port %q, container ports %+v, --listen port %s: not the same port", name, p.HTTPGet.Port, c.Ports, port)
		}
	}
}
