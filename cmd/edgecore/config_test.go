package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// writeFile writes content to name under a fresh temporary directory and
// returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfigNoFile(t *testing.T) {
	cfg, err := loadConfig("")
	if err != nil {
		t.Fatalf("loadConfig(\"\"): %v", err)
	}
	if !reflect.DeepEqual(cfg, DefaultConfig()) {
		t.Fatalf("loadConfig(\"\") = %+v, want the defaults %+v", cfg, DefaultConfig())
	}
}

// The embedded defaults are what docs/architecture.md §3.4–3.7 promise.
func TestDefaultConfigValues(t *testing.T) {
	d := DefaultConfig()
	checks := []struct {
		name      string
		got, want any
	}{
		{"dataDir", d.DataDir, ""},
		{"memoryLimitMiB", d.MemoryLimitMiB, int64(DefaultMemoryLimitMiB)},
		{"lwServer.enable", d.Modules.LWServer.Enable, true},
		{"lwServer.address", d.Modules.LWServer.Address, "127.0.0.1:10550"},
		{"lwServer.watcherQueueEvents", d.Modules.LWServer.WatcherQueueEvents, 1000},
		{"lwServer.watcherQueueBytes", d.Modules.LWServer.WatcherQueueBytes, int64(16 << 20)},
		{"lwServer.bookmarkInterval", d.Modules.LWServer.BookmarkInterval.Duration, time.Minute},
		{"metaManager.enable", d.Modules.MetaManager.Enable, true},
		{"metaManager.eventLogWindowEvents", d.Modules.MetaManager.EventLogWindowEvents, 100000},
		{"metaManager.eventLogWindowAge", d.Modules.MetaManager.EventLogWindowAge.Duration, 24 * time.Hour},
		{"edgeHub.enable", d.Modules.EdgeHub.Enable, true},
		{"edgeHub.socket", d.Modules.EdgeHub.Socket, ""},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("default %s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// `edgecore --defaultconfig` prints YAML that loads back to DefaultConfig,
// and the same holds for its JSON form and for a config with every
// setting changed.
func TestConfigRoundTrip(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--defaultconfig"}, &stdout, &stderr); code != 0 {
		t.Fatalf("run --defaultconfig = %d, stderr: %s", code, stderr.String())
	}
	printed := stdout.String()
	for _, want := range []string{"eventLogWindowAge: 24h0m0s", "bookmarkInterval: 1m0s", "address: 127.0.0.1:10550", "memoryLimitMiB: 128"} {
		if !strings.Contains(printed, want) {
			t.Errorf("--defaultconfig output lacks %q:\n%s", want, printed)
		}
	}

	changed := DefaultConfig()
	changed.DataDir = "/srv/edgecore"
	changed.MemoryLimitMiB = 0
	changed.Modules.MetaManager.Enable = false
	changed.Modules.MetaManager.Workers = 7
	changed.Modules.MetaManager.QueueLength = 3
	changed.Modules.MetaManager.ContextSendModule = "x"
	changed.Modules.MetaManager.EventLogWindowEvents = 5
	changed.Modules.MetaManager.EventLogWindowAge.Duration = 90 * time.Minute
	changed.Modules.MetaManager.MaxBatch = 9
	changed.Modules.EdgeHub.Enable = false
	changed.Modules.EdgeHub.Socket = "/run/ec.sock"
	changed.Modules.EdgeHub.SocketMode = "0660"
	changed.Modules.EdgeHub.MaxMessageBytes = 11
	changed.Modules.EdgeHub.MaxInFlight = 12
	changed.Modules.EdgeHub.ContextSendModule = "y"
	changed.Modules.LWServer.Enable = false
	changed.Modules.LWServer.Address = "0.0.0.0:6443"
	changed.Modules.LWServer.MaxWatchers = 13
	changed.Modules.LWServer.WatcherQueueEvents = 14
	changed.Modules.LWServer.WatcherQueueBytes = 15
	changed.Modules.LWServer.WatchCacheEvents = 16
	changed.Modules.LWServer.WatchCacheBytes = 17
	changed.Modules.LWServer.BookmarkInterval.Duration = 2500 * time.Millisecond
	changed.Modules.LWServer.MaxRequestBodyBytes = 18

	marshalYAML := func(c Config) string {
		b, err := yaml.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	marshalJSON := func(c Config) string {
		b, err := json.MarshalIndent(c, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name, file, content string
		want                Config
	}{
		{"defaultconfig output", "default.yaml", printed, DefaultConfig()},
		{"defaults as JSON", "default.json", marshalJSON(DefaultConfig()), DefaultConfig()},
		{"all changed, YAML", "changed.yaml", marshalYAML(changed), changed},
		{"all changed, JSON", "changed.json", marshalJSON(changed), changed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := loadConfig(writeFile(t, tt.file, tt.content))
			if err != nil {
				t.Fatalf("loadConfig: %v\nfile:\n%s", err, tt.content)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("loadConfig = %+v\nwant %+v\nfile:\n%s", got, tt.want, tt.content)
			}
		})
	}
}

// A file sets only what it mentions; everything else keeps its default.
func TestLoadConfigPartial(t *testing.T) {
	tests := []struct {
		name, file, content string
		edit                func(*Config)
	}{
		{"empty YAML", "c.yaml", "", func(*Config) {}},
		{"comments only", "c.yaml", "# nothing set\n", func(*Config) {}},
		{"empty JSON object", "c.json", "{}", func(*Config) {}},
		{"empty module section", "c.yaml", "modules:\n  lwServer: {}\n", func(*Config) {}},
		{"null module section", "c.yaml", "modules:\n  lwServer: null\n", func(*Config) {}},
		{
			"one nested key, YAML", "c.yaml",
			"modules:\n  lwServer:\n    address: 0.0.0.0:6443\n",
			func(c *Config) { c.Modules.LWServer.Address = "0.0.0.0:6443" },
		},
		{
			"one nested key, JSON", "c.json",
			`{"modules": {"metaManager": {"workers": 8}}}`,
			func(c *Config) { c.Modules.MetaManager.Workers = 8 },
		},
		{
			"top-level keys", "c.yaml",
			"dataDir: /data/ec\nmemoryLimitMiB: 256\n",
			func(c *Config) { c.DataDir = "/data/ec"; c.MemoryLimitMiB = 256 },
		},
		{
			// An explicit zero is a value, not "unset".
			"explicit zero and false", "c.yaml",
			"memoryLimitMiB: 0\nmodules:\n  lwServer:\n    enable: false\n",
			func(c *Config) { c.MemoryLimitMiB = 0; c.Modules.LWServer.Enable = false },
		},
		{
			"keys in several modules", "c.yaml",
			"modules:\n  edgeHub:\n    socketMode: \"0660\"\n  metaManager:\n    maxBatch: 50\n",
			func(c *Config) { c.Modules.EdgeHub.SocketMode = "0660"; c.Modules.MetaManager.MaxBatch = 50 },
		},
		{
			"duration 24h0m0s", "c.yaml",
			"modules:\n  metaManager:\n    eventLogWindowAge: 24h0m0s\n",
			func(*Config) {},
		},
		{
			"duration 1m0s", "c.yaml",
			"modules:\n  lwServer:\n    bookmarkInterval: 1m0s\n",
			func(*Config) {},
		},
		{
			"duration 48h0m0s", "c.yaml",
			"modules:\n  metaManager:\n    eventLogWindowAge: 48h0m0s\n",
			func(c *Config) { c.Modules.MetaManager.EventLogWindowAge.Duration = 48 * time.Hour },
		},
		{
			"duration short form 90s", "c.yaml",
			"modules:\n  lwServer:\n    bookmarkInterval: 90s\n",
			func(c *Config) { c.Modules.LWServer.BookmarkInterval.Duration = 90 * time.Second },
		},
		{
			"duration 1h30m in JSON", "c.json",
			`{"modules": {"metaManager": {"eventLogWindowAge": "1h30m"}}}`,
			func(c *Config) { c.Modules.MetaManager.EventLogWindowAge.Duration = 90 * time.Minute },
		},
		{
			"duration 500ms quoted", "c.yaml",
			"modules:\n  lwServer:\n    bookmarkInterval: \"500ms\"\n",
			func(c *Config) { c.Modules.LWServer.BookmarkInterval.Duration = 500 * time.Millisecond },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := DefaultConfig()
			tt.edit(&want)
			got, err := loadConfig(writeFile(t, tt.file, tt.content))
			if err != nil {
				t.Fatalf("loadConfig: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("loadConfig = %+v\nwant %+v", got, want)
			}
		})
	}
}

// Bad files are an error naming the file and, for an unknown key, the key.
func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name, file, content string
		wantSub             []string
	}{
		{"unknown top-level key", "c.yaml", "dataDirectory: /x\n", []string{`unknown field "dataDirectory"`}},
		{"unknown module", "c.yaml", "modules:\n  metaServer:\n    enable: true\n", []string{`unknown field "metaServer"`}},
		{"misspelt nested key", "c.yaml", "modules:\n  lwServer:\n    adress: 0.0.0.0:1\n", []string{`unknown field "adress"`}},
		{"unknown key in JSON", "c.json", `{"modules": {"edgeHub": {"sockett": "/x"}}}`, []string{`unknown field "sockett"`}},
		{"unknown key beside known ones", "c.yaml", "memoryLimitMiB: 64\nextra: 1\n", []string{`unknown field "extra"`}},
		{"duplicate key", "c.yaml", "dataDir: /a\ndataDir: /b\n", []string{"dataDir", "already set"}},
		{"bad duration", "c.yaml", "modules:\n  lwServer:\n    bookmarkInterval: 1 minute\n", nil},
		{"duration as number", "c.yaml", "modules:\n  lwServer:\n    bookmarkInterval: 60\n", nil},
		{"wrong type", "c.yaml", "modules:\n  metaManager:\n    workers: many\n", nil},
		{"not a mapping", "c.yaml", "- a\n- b\n", nil},
		{"invalid YAML", "c.yaml", "modules: [\n", nil},
		{"invalid JSON", "c.json", `{"dataDir": `, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.file, tt.content)
			_, err := loadConfig(path)
			if err == nil {
				t.Fatalf("loadConfig of %q: no error", tt.content)
			}
			msg := err.Error()
			if !strings.Contains(msg, path) {
				t.Errorf("error %q does not name the file %s", msg, path)
			}
			for _, s := range tt.wantSub {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q lacks %q", msg, s)
				}
			}
		})
	}

	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "absent.yaml")
		_, err := loadConfig(path)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("loadConfig(missing) = %v, want ErrNotExist", err)
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name the file", err)
		}
	})
}
