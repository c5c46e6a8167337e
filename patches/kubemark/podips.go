// kubemark-pulumi: gives each hollow pod sandbox an IPv4 address of its Node's podCIDR, not the fake runtime's one IP.

package app

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
)

// podIPAllocator hands out the addresses of one IPv4 CIDR, lowest free first, so a released one is reused. It skips
// the network address, the first host (the gateway a CNI bridge takes) and the broadcast address.
type podIPAllocator struct {
	prefix netip.Prefix
	used   map[netip.Addr]bool
}

func newPodIPAllocator(cidr string) (*podIPAllocator, error) {
	prefix, err := netip.ParsePrefix(strings.TrimSpace(cidr))
	if err != nil {
		return nil, err
	}
	if !prefix.Addr().Is4() || prefix.Bits() > 30 {
		return nil, fmt.Errorf("%s: not an IPv4 CIDR with room for pods (/30 or wider)", cidr)
	}
	return &podIPAllocator{prefix: prefix.Masked(), used: map[netip.Addr]bool{}}, nil
}

func (a *podIPAllocator) allocate() (netip.Addr, bool) {
	gateway := a.prefix.Addr().Next()
	for ip := gateway.Next(); a.prefix.Contains(ip.Next()); ip = ip.Next() {
		if !a.used[ip] {
			a.used[ip] = true
			return ip, true
		}
	}
	return netip.Addr{}, false
}

func (a *podIPAllocator) release(ip netip.Addr) { delete(a.used, ip) }

// firstIPv4CIDR picks the IPv4 range of the kubelet's "cidr[,cidr]" (node.Spec.PodCIDRs joined by updatePodCIDR).
func firstIPv4CIDR(cidrs string) string {
	for _, cidr := range strings.Split(cidrs, ",") {
		if prefix, err := netip.ParsePrefix(strings.TrimSpace(cidr)); err == nil && prefix.Addr().Is4() {
			return cidr
		}
	}
	return ""
}

// podIPRuntime learns the Node's podCIDR from UpdateRuntimeConfig (the kubelet's updatePodCIDR) and reports an address
// of it in PodSandboxStatus, where kuberuntime's determinePodSandboxIPs reads a pod's IPs. A sandbox made before the
// Node had a podCIDR, or in the host's network, keeps what the fake runtime says, as without this patch.
type podIPRuntime struct {
	internalapi.RuntimeService
	mu        sync.Mutex
	cidr      string
	allocator *podIPAllocator
	// bySandbox holds each sandbox's address and the allocator it came from (a new podCIDR starts a new allocator).
	bySandbox map[string]podIP
}

type podIP struct {
	ip   netip.Addr
	from *podIPAllocator
}

func withPodIPs(inner internalapi.RuntimeService) internalapi.RuntimeService {
	return &podIPRuntime{RuntimeService: inner, bySandbox: map[string]podIP{}}
}

func (r *podIPRuntime) UpdateRuntimeConfig(ctx context.Context, config *runtimeapi.RuntimeConfig) error {
	if cidrs := config.GetNetworkConfig().GetPodCidr(); cidrs != "" {
		r.mu.Lock()
		if cidr := firstIPv4CIDR(cidrs); cidr != r.cidr {
			if allocator, err := newPodIPAllocator(cidr); err != nil {
				klog.ErrorS(err, "Pod IPs: keeping the fake runtime's address", "podCIDRs", cidrs)
				r.cidr, r.allocator = cidr, nil
			} else {
				klog.InfoS("Pod IPs: allocating from the Node's podCIDR", "podCIDR", cidr)
				r.cidr, r.allocator = cidr, allocator
			}
		}
		r.mu.Unlock()
	}
	return r.RuntimeService.UpdateRuntimeConfig(ctx, config)
}

func (r *podIPRuntime) RunPodSandbox(ctx context.Context, config *runtimeapi.PodSandboxConfig, runtimeHandler string) (string, error) {
	id, err := r.RuntimeService.RunPodSandbox(ctx, config, runtimeHandler)
	if err != nil || config.GetLinux().GetSecurityContext().GetNamespaceOptions().GetNetwork() == runtimeapi.NamespaceMode_NODE {
		return id, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.allocator == nil {
		return id, nil
	}
	ip, ok := r.allocator.allocate()
	if !ok {
		// A real CNI fails the sandbox here; the pod is retried and a removed sandbox frees an address.
		_ = r.RuntimeService.RemovePodSandbox(ctx, id)
		return "", fmt.Errorf("no free address left in podCIDR %s", r.cidr)
	}
	r.bySandbox[id] = podIP{ip: ip, from: r.allocator}
	return id, nil
}

func (r *podIPRuntime) PodSandboxStatus(ctx context.Context, podSandboxID string, verbose bool) (*runtimeapi.PodSandboxStatusResponse, error) {
	resp, err := r.RuntimeService.PodSandboxStatus(ctx, podSandboxID, verbose)
	if err != nil || resp.GetStatus() == nil {
		return resp, err
	}
	r.mu.Lock()
	ip, ok := r.bySandbox[podSandboxID]
	r.mu.Unlock()
	if ok {
		resp.Status.Network = &runtimeapi.PodSandboxNetworkStatus{Ip: ip.ip.String()}
	}
	return resp, nil
}

// RemovePodSandbox frees the address: only then, since the API may show a stopped sandbox's pod with it until deleted.
func (r *podIPRuntime) RemovePodSandbox(ctx context.Context, podSandboxID string) error {
	if err := r.RuntimeService.RemovePodSandbox(ctx, podSandboxID); err != nil {
		return err
	}
	r.mu.Lock()
	if ip, ok := r.bySandbox[podSandboxID]; ok {
		ip.from.release(ip.ip)
		delete(r.bySandbox, podSandboxID)
	}
	r.mu.Unlock()
	return nil
}
