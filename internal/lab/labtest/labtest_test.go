package labtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWriteLogTails(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "h1"), 0o755))
	long := strings.Repeat("a", tailBytes) + "END"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "server.log"), []byte("START"+long), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "h1", "agent.log"), []byte("agent says hi"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "h1", "ovs-vswitchd.log"), []byte("not shown"), 0o644))

	var b strings.Builder
	WriteLogTails(&b, dir)
	out := b.String()
	require.Contains(t, out, "==> "+filepath.Join(dir, "server.log")+" (tail)")
	require.Contains(t, out, "END")
	require.NotContains(t, out, "START", "only the tail of a long log")
	require.Contains(t, out, "agent says hi")
	require.NotContains(t, out, "not shown")
}

func TestBinaryFromEnv(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "vland")
	require.NoError(t, os.WriteFile(bin, nil, 0o755))
	t.Chdir(dir)
	t.Setenv(BinaryEnv, "vland")
	require.Equal(t, bin, Binary(t), "a relative $VLAND_BINARY is made absolute")

	t.Setenv(BinaryEnv, filepath.Join(dir, "missing"))
	_, err := buildBinary()
	require.ErrorIs(t, err, os.ErrNotExist)

	// Without it the binary is built in isolate's directory: none here.
	t.Setenv(BinaryEnv, "")
	_, err = buildBinary()
	require.ErrorIs(t, err, ErrNoMain)
}
