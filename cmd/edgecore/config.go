package main

import (
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"

	"github.com/edgecore/edgecore/edge/pkg/edgehub"
	"github.com/edgecore/edgecore/edge/pkg/lwserver"
	"github.com/edgecore/edgecore/edge/pkg/metamanager"
)

// Config is the whole edgecore configuration: one section per module. A
// config file (YAML or JSON) overlays the embedded default; keys it leaves
// out keep their default values. `edgecore --defaultconfig` prints it.
type Config struct {
	// DataDir holds edgecore.db and edgecore.sock; "" = the default data
	// directory (see defaultDataDir). --data-dir overrides it.
	DataDir string `json:"dataDir"`
	// MemoryLimitMiB is the Go runtime's soft memory limit
	// (runtime/debug.SetMemoryLimit): near it the garbage collector runs
	// more often and returns free heap to the OS, so a burst (a big list,
	// many watchers starting) does not leave hundreds of MB resident.
	// 0 = no limit. The GOMEMLIMIT environment variable, when set, wins.
	// It bounds Go's memory only (not SQLite's page caches nor the
	// binary), and it is soft: a live heap above it is not an error, the
	// GC then just runs (at most ~50 % of the CPU) until it is not.
	MemoryLimitMiB int64   `json:"memoryLimitMiB"`
	Modules        Modules `json:"modules"`
}

// DefaultMemoryLimitMiB is Config.MemoryLimitMiB's default: docs/benchmarks.md's
// 150 MB of resident memory, less what is not Go heap. Without it the GC's
// slack let 100 watchers at 10k pods peak at 150–240 MB (VmRSS) across runs;
// with it ~155 MB. It costs Table lists ~30 % (still inside their target). It
// once made 1,000 simultaneous initial watches 3× slower (the GC at half the
// CPU); since watches share their initial pages that case stays at ~3 s.
const DefaultMemoryLimitMiB = 128

// Modules are the per-module sections.
type Modules struct {
	MetaManager metamanager.Config `json:"metaManager"`
	EdgeHub     edgehub.Config     `json:"edgeHub"`
	LWServer    lwserver.Config    `json:"lwServer"`
}

// DefaultConfig is the embedded default configuration.
func DefaultConfig() Config {
	return Config{
		MemoryLimitMiB: DefaultMemoryLimitMiB,
		Modules: Modules{
			MetaManager: metamanager.DefaultConfig(),
			EdgeHub:     edgehub.DefaultConfig(),
			LWServer:    lwserver.DefaultConfig(),
		},
	}
}

// loadConfig reads a YAML or JSON config file over the defaults. Unknown
// keys are an error, so a misspelt setting does not pass silently.
func loadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	if path == "" {
		return cfg, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, err
	}
	if err := yaml.UnmarshalStrict(b, &cfg); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// defaultDataDir is where edgecore keeps its state when neither --data-dir
// nor the config file says: /var/lib/edgecore when running as root (as a
// system service), else $XDG_STATE_HOME/edgecore, falling back to
// ~/.local/state/edgecore (the XDG default), so a plain user can run it
// without privileges.
func defaultDataDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/edgecore"
	}
	if x := os.Getenv("XDG_STATE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "edgecore")
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return filepath.Join(home, ".local", "state", "edgecore")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("edgecore-%d", os.Geteuid()))
}
