package fault

import (
	"errors"
	"fmt"
	"testing"
)

func TestKindsAndMessages(t *testing.T) {
	errX := errors.New("x: broken")
	tests := []struct {
		err  error
		kind error
		msg  string
	}{
		{New(errX, "Port %s could not be found.", "p1"), errX, "Port p1 could not be found."},
		{BadAttr("cidr", "'%s' is not a valid IP subnet", "10/33"), ErrBadRequest, "Invalid input for cidr. Reason: '10/33' is not a valid IP subnet."},
		{InvalidInput("network_type required"), ErrInvalidInput, "Invalid input for operation: network_type required."},
	}
	for _, tc := range tests {
		wrapped := fmt.Errorf("context: %w", tc.err)
		var e *Error
		if !errors.Is(wrapped, tc.kind) || !errors.As(wrapped, &e) || e.Message != tc.msg || tc.err.Error() != tc.msg {
			t.Errorf("%v: kind or message lost (%q)", tc.err, e)
		}
	}
}
