package lab

// Internals for the external tests (package lab_test), which build a
// fabric by hand: they live there because they use labtest, which imports
// this package.
var (
	NewState    = newState
	BuildFabric = buildFabric
	BuildHost   = buildHost
	HostNetNS   = hostNetNS
)

const (
	MarkerFile = markerFile
	DataNIC    = dataNIC
	PhyBridge  = phyBridge
)
