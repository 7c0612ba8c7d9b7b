// Package ipam is vland's IP address management: subnet validation with
// Neutron's defaults and error wording (ValidateSubnet, ParseCIDR,
// DefaultPools, Overlaps, Subnet.CheckFixedIP), MAC generation and
// validation (RandomMAC, NormalizeMAC), and an Allocator that hands out the
// lowest free address of a subnet.
//
// Allocation is a compare-and-create on the store: the address's
// store.IPKey must not exist when the port transaction commits. The
// Allocator only makes that transaction very likely to succeed the first
// time, so concurrent port creates on one subnet do not fight:
//
//	for attempt := 0; attempt < 5; attempt++ {
//		ip, release, err := alloc.Reserve(ctx, subnetID, sub.Pools)
//		if err != nil {
//			return err // *ipam.Error, e.g. IpAddressGenerationFailure
//		}
//		key := store.IPKey(subnetID, ip.String())
//		_, err = st.Txn(ctx, append(conds, store.Cond{Key: key}),
//			append(ops, store.Op{Key: key, Value: []byte(portID)}))
//		release(err == nil)
//		if !errors.Is(err, store.ErrConflict) {
//			return err
//		}
//		alloc.MarkStale(subnetID) // someone else took it: reload and retry
//	}
//
// Addresses are handed out lowest first, so sequential creates get .2, .3,
// ... and two projects with the same CIDR get the same addresses.
//
// Errors the API must show to users are *Error values carrying the
// Neutron type and HTTP status; everything else is an internal error.
package ipam
