package main

import (
	"testing"

	"github.com/vland/vland/internal/client/clienttest"
)

// startAPI starts an API for the client commands and returns its root URL.
func startAPI(t *testing.T) string {
	t.Helper()
	return clienttest.New(t).URL
}
