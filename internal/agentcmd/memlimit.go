package agentcmd

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// defaultAgentMemoryLimit is `vland agent --memory-limit`'s default: the
// agent of a 333-port host (3 hosts, 1,000 ports on 10 networks) has about
// 8 MiB of live heap, up to 12 while it recomputes. Measured there
// (BenchmarkThousandPorts): 32MiB hardly binds (RSS 40-46 MB, as without a
// limit); 20MiB keeps RSS at 36-38.5 MB for ~0.1 s more CPU per agent during
// the bring-up, ACTIVE 1.1-1.4 s instead of 0.9-1.2; 16MiB doubles the
// collector's CPU again and ACTIVE takes 1.7 s. See docs/deployment.md,
// "Agent memory".
const defaultAgentMemoryLimit = "20MiB"

// setMemoryLimit applies a soft memory limit ("32MiB", "1GiB", bytes; "0"
// or "off" for none) unless it is the default and GOMEMLIMIT is set.
func setMemoryLimit(v string, explicit bool) error {
	if !explicit && os.Getenv("GOMEMLIMIT") != "" {
		return nil
	}
	n, err := parseBytes(v)
	if err != nil {
		return fmt.Errorf("--memory-limit: %w", err)
	}
	if n == 0 {
		n = 1<<63 - 1 // the runtime's "no limit"
	}
	debug.SetMemoryLimit(n)
	return nil
}

// parseBytes reads a size as GOMEMLIMIT writes it: a number with an
// optional B, KiB, MiB or GiB suffix; "off" is 0.
func parseBytes(v string) (int64, error) {
	if v == "off" {
		return 0, nil
	}
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if num, ok := strings.CutSuffix(v, u.suffix); ok {
			v, mult = num, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > (1<<63-1)/mult {
		return 0, fmt.Errorf("%q is not a size (e.g. 32MiB, 1GiB, off)", v)
	}
	return n * mult, nil
}
