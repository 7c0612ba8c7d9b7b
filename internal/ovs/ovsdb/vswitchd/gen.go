// Package vswitchd holds libovsdb models for the Open_vSwitch database,
// generated from the schema shipped with openvswitch-switch. Do not edit the
// generated files; rerun go generate after an OVS schema change.
package vswitchd

//go:generate go run github.com/ovn-kubernetes/libovsdb/cmd/modelgen -extended -p vswitchd -o . /usr/share/openvswitch/vswitch.ovsschema
