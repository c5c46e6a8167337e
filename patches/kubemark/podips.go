// kubemark-pulumi: gives each hollow pod sandbox an IPv4 address of its Node's podCIDR, not the fake runtime's one IP.

package app

import (
	"context"
	goflag "flag"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
)

// The kubelet hands the runtime its Node's podCIDR only in its node status sync (every 10 s for a hollow kubelet, and
// at start until the Node is Ready): a pod bound in the seconds between the Node getting a podCIDR and that sync would
// keep the fake address for life (seen on v1.29: 2 of 6 pods). So a sandbox made while no podCIDR is known reads the
// Node itself. How long it keeps doing so is --pod-cidr-lookup.
const (
	podCIDRLookupFlag = "pod-cidr-lookup"
	// lookupYoungNode: a controller manager that allocates podCIDRs does so as the Node is added; a Node older than
	// youngNodeAge without one is on a target that gives none, where a read per pod would be load for nothing.
	lookupYoungNode = "young-node"
	// lookupAlways: something else hands podCIDRs out after registration (kubemark-pulumi's podCidrRange, at `up`).
	lookupAlways  = "always"
	lookupNever   = "never"
	youngNodeAge  = 60 * time.Second
	lookupTimeout = 5 * time.Second
)

var podCIDRLookup = podCIDRLookupMode(lookupYoungNode)

type podCIDRLookupMode string

func init() {
	goflag.Var(&podCIDRLookup, podCIDRLookupFlag, "When a pod sandbox is made before the kubelet passed the Node's podCIDR on, "+
		"read it from the Node: young-node (while the Node is younger than 60s), always, or never.")
}

func (m *podCIDRLookupMode) String() string { return string(*m) }

func (m *podCIDRLookupMode) Set(value string) error {
	switch value {
	case lookupYoungNode, lookupAlways, lookupNever:
		*m = podCIDRLookupMode(value)
		return nil
	}
	return fmt.Errorf("accepted: %s, %s, %s", lookupYoungNode, lookupAlways, lookupNever)
}

// nodeReader is the part of client-go's NodeInterface the lookup uses.
type nodeReader interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*v1.Node, error)
}

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

// podIPRuntime learns the Node's podCIDR from UpdateRuntimeConfig (the kubelet's updatePodCIDR) or by reading the Node,
// and reports an address of it in PodSandboxStatus, where kuberuntime's determinePodSandboxIPs reads a pod's IPs. A
// sandbox made while the Node has no podCIDR, or in the host's network, keeps what the fake runtime says.
type podIPRuntime struct {
	internalapi.RuntimeService
	mu        sync.Mutex
	cidr      string
	allocator *podIPAllocator
	// bySandbox holds each sandbox's address and the allocator it came from (a new podCIDR starts a new allocator).
	bySandbox map[string]podIP

	nodes    nodeReader
	nodeName string
	lookup   podCIDRLookupMode
	now      func() time.Time
	// lookupMu lets one sandbox read the Node at a time; the others then find what it learnt.
	lookupMu      sync.Mutex
	stopLookingUp bool
}

type podIP struct {
	ip   netip.Addr
	from *podIPAllocator
}

func withPodIPs(inner internalapi.RuntimeService, nodes nodeReader, nodeName string) internalapi.RuntimeService {
	return newPodIPRuntime(inner, nodes, nodeName, podCIDRLookup, time.Now)
}

func newPodIPRuntime(inner internalapi.RuntimeService, nodes nodeReader, nodeName string, lookup podCIDRLookupMode, now func() time.Time) *podIPRuntime {
	return &podIPRuntime{RuntimeService: inner, bySandbox: map[string]podIP{}, nodes: nodes, nodeName: nodeName, lookup: lookup, now: now}
}

func (r *podIPRuntime) UpdateRuntimeConfig(ctx context.Context, config *runtimeapi.RuntimeConfig) error {
	if cidrs := config.GetNetworkConfig().GetPodCidr(); cidrs != "" {
		r.learn(cidrs, "kubelet")
	}
	return r.RuntimeService.UpdateRuntimeConfig(ctx, config)
}

// learn starts allocating from the first IPv4 range of "cidr[,cidr]" unless it is the one already used.
func (r *podIPRuntime) learn(cidrs, from string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cidr := firstIPv4CIDR(cidrs)
	if cidr == r.cidr {
		return
	}
	if allocator, err := newPodIPAllocator(cidr); err != nil {
		klog.ErrorS(err, "Pod IPs: keeping the fake runtime's address", "podCIDRs", cidrs)
		r.cidr, r.allocator = cidr, nil
	} else {
		klog.InfoS("Pod IPs: allocating from the Node's podCIDR", "podCIDR", cidr, "from", from)
		r.cidr, r.allocator = cidr, allocator
	}
}

// lookUpPodCIDR reads the Node when no podCIDR is known yet and --pod-cidr-lookup allows it.
func (r *podIPRuntime) lookUpPodCIDR(ctx context.Context) {
	if r.nodes == nil || r.lookup == lookupNever {
		return
	}
	r.lookupMu.Lock()
	defer r.lookupMu.Unlock()
	r.mu.Lock()
	known := r.cidr != ""
	r.mu.Unlock()
	if known || r.stopLookingUp {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	// ResourceVersion "0" is served from the API server's watch cache, as the kubelet's own first node status read.
	node, err := r.nodes.Get(ctx, r.nodeName, metav1.GetOptions{ResourceVersion: "0"})
	if err != nil {
		klog.V(2).InfoS("Pod IPs: could not read the Node for its podCIDR", "node", r.nodeName, "err", err)
		return
	}
	if cidrs := strings.Join(node.Spec.PodCIDRs, ","); cidrs != "" {
		r.learn(cidrs, "Node")
		return
	}
	if age := r.now().Sub(node.CreationTimestamp.Time); r.lookup == lookupYoungNode && age > youngNodeAge {
		klog.InfoS("Pod IPs: the Node has no podCIDR after a minute, so the target allocates none; "+
			"pods keep the fake runtime's address unless the kubelet passes one on", "node", r.nodeName, "age", age.Round(time.Second))
		r.stopLookingUp = true
	}
}

func (r *podIPRuntime) RunPodSandbox(ctx context.Context, config *runtimeapi.PodSandboxConfig, runtimeHandler string) (string, error) {
	id, err := r.RuntimeService.RunPodSandbox(ctx, config, runtimeHandler)
	if err != nil || config.GetLinux().GetSecurityContext().GetNamespaceOptions().GetNetwork() == runtimeapi.NamespaceMode_NODE {
		return id, err
	}
	r.lookUpPodCIDR(ctx)
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
