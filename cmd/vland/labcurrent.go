package main

import (
	"os"
	"path/filepath"

	"github.com/vland/vland/internal/client"
	"github.com/vland/vland/internal/lab"
)

// currentLab is the lab the client points at (its config's API URL is the
// lab's), among the labs in lab.BaseDir: after `vland lab up --name X`,
// `vland lab vm create ...` acts on X without repeating --name.
func currentLab() (*lab.Lab, bool) {
	cfg, err := client.ReadConfig(client.DefaultConfigPath())
	if err != nil || cfg.URL == "" {
		return nil, false
	}
	ents, _ := os.ReadDir(lab.BaseDir)
	for _, e := range ents {
		l, err := lab.Load("", filepath.Join(lab.BaseDir, e.Name()))
		if err == nil && l.APIURL() == cfg.URL {
			return l, true
		}
	}
	return nil, false
}
