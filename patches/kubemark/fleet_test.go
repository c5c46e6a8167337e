// kubemark-pulumi: unit tests of the fleet patches, added to the patched tree only for test/build/fleetBuild.test.ts.

package app

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	critest "k8s.io/cri-api/pkg/apis/testing"
)

func TestFleetNodeCapacityFlag(t *testing.T) {
	c, err := parseNodeCapacity("cpu=8,ephemeral-storage=100Gi,memory=32Gi")
	if err != nil || !c.set || c.cpuCores != 8 || c.memory.String() != "32Gi" || c.ephemeralStorage.String() != "100Gi" {
		t.Fatalf("parsed %+v, %v", c, err)
	}
	if c, err := parseNodeCapacity(""); err != nil || c.set {
		t.Fatalf("empty: %+v, %v", c, err)
	}
	if c, err := parseNodeCapacity("cpu=2000m"); err != nil || c.cpuCores != 2 || c.memory != nil {
		t.Fatalf("2000m: %+v, %v", c, err)
	}
	for value, want := range map[string]string{
		"cpu=1.5":       "cpu=1.5: must be whole cores",
		"cpu=500m":      "cpu=500m: must be whole cores",
		"gpu=1":         `unknown key "gpu"`,
		"cpu=2,cpu=4":   "cpu is given twice",
		"memory":        `"memory" is not <key>=<quantity>`,
		"memory=lots":   "memory=lots:",
		"memory=0":      "memory=0: must be more than 0",
		"cpu=8,memory=": `"memory=" is not <key>=<quantity>`,
	} {
		if _, err := parseNodeCapacity(value); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error with %q", value, err, want)
		}
	}
	// The flag goes through Go's flag set, which the hollow node's command adds to its own.
	var flag nodeCapacity
	if err := flag.Set("cpu=1.5"); err == nil || flag.set {
		t.Fatalf("Set accepted a fraction: %v", err)
	}
}

func TestFleetNodeCapacityMachineAndAllocatable(t *testing.T) {
	c, _ := parseNodeCapacity("cpu=8,memory=32Gi,ephemeral-storage=100Gi")
	cores, memory := 1, uint64(4026531840)
	c.machine(&cores, &memory)
	if cores != 8 || memory != 32<<30 {
		t.Fatalf("machine %d cores %d bytes", cores, memory)
	}
	partial, _ := parseNodeCapacity("cpu=4")
	cores, memory = 1, 4026531840
	partial.machine(&cores, &memory)
	if cores != 4 || memory != 4026531840 {
		t.Fatalf("a key not given keeps kubemark's value: %d, %d", cores, memory)
	}
	stub := v1.ResourceList{v1.ResourceEphemeralStorage: resource.MustParse("0")}
	if got := c.capacity(stub)[v1.ResourceEphemeralStorage]; got.String() != "100Gi" {
		t.Fatalf("ephemeral-storage capacity %s", got.String())
	}
	if got := c.capacity(v1.ResourceList{}); len(got) != 0 {
		t.Fatalf("without LocalStorageCapacityIsolation no ephemeral-storage, as a real kubelet: %v", got)
	}
	reserved := c.reservation(nil)
	if m, e := reserved[v1.ResourceMemory], reserved[v1.ResourceEphemeralStorage]; m.String() != "100Mi" || e.Value() != 10<<30 {
		t.Fatalf("reservation memory %s ephemeral-storage %d", m.String(), e.Value())
	}
	if _, ok := partial.reservation(nil)[v1.ResourceEphemeralStorage]; ok {
		t.Fatal("no ephemeral-storage given: nothing of it reserved")
	}
	var unset nodeCapacity
	if unset.containerManager(nil) != nil || unset.cadvisor(nil) != nil {
		t.Fatal("without the flag the fakes are passed through unwrapped")
	}
}

func TestFleetPodIPAllocator(t *testing.T) {
	a, err := newPodIPAllocator("10.244.1.0/24")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := 0; i < 253; i++ {
		ip, ok := a.allocate()
		if !ok {
			t.Fatalf("exhausted after %d", i)
		}
		got = append(got, ip.String())
	}
	if got[0] != "10.244.1.2" || got[252] != "10.244.1.254" {
		t.Fatalf("first %s last %s: network, gateway and broadcast are skipped", got[0], got[252])
	}
	if _, ok := a.allocate(); ok {
		t.Fatal("a /24 holds 253 pod addresses")
	}
	first, _ := newPodIPAllocator("10.244.1.0/24")
	x, _ := first.allocate()
	y, _ := first.allocate()
	first.release(x)
	if z, _ := first.allocate(); z != x || z == y {
		t.Fatalf("a released address is reused first: %s", z)
	}
	for _, bad := range []string{"fd00::/64", "10.0.0.0/31", "nonsense"} {
		if _, err := newPodIPAllocator(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if firstIPv4CIDR("fd00::/64,10.1.0.0/24") != "10.1.0.0/24" || firstIPv4CIDR("fd00::/64") != "" {
		t.Fatal("firstIPv4CIDR")
	}
}

func sandbox(name string, hostNetwork bool, annotations map[string]string) *runtimeapi.PodSandboxConfig {
	mode := runtimeapi.NamespaceMode_POD
	if hostNetwork {
		mode = runtimeapi.NamespaceMode_NODE
	}
	return &runtimeapi.PodSandboxConfig{
		Metadata:    &runtimeapi.PodSandboxMetadata{Name: name, Namespace: "ns", Uid: name},
		Annotations: annotations,
		Linux: &runtimeapi.LinuxPodSandboxConfig{SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
			NamespaceOptions: &runtimeapi.NamespaceOption{Network: mode},
		}},
	}
}

func TestFleetPodIPRuntime(t *testing.T) {
	ctx := context.Background()
	r := newPodIPRuntime(critest.NewFakeRuntimeService(), nil, "", lookupNever, time.Now)
	ipOf := func(id string) string {
		resp, err := r.PodSandboxStatus(ctx, id, false)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Status.Network.Ip
	}
	early, _ := r.RunPodSandbox(ctx, sandbox("early", false, nil), "")
	if ipOf(early) != critest.FakePodSandboxIPs[0] {
		t.Fatalf("before a podCIDR: %s", ipOf(early))
	}
	if err := r.UpdateRuntimeConfig(ctx, &runtimeapi.RuntimeConfig{NetworkConfig: &runtimeapi.NetworkConfig{PodCidr: "10.244.3.0/24,fd00::/64"}}); err != nil {
		t.Fatal(err)
	}
	a, _ := r.RunPodSandbox(ctx, sandbox("a", false, nil), "")
	b, _ := r.RunPodSandbox(ctx, sandbox("b", false, nil), "")
	host, _ := r.RunPodSandbox(ctx, sandbox("host", true, nil), "")
	if ipOf(a) != "10.244.3.2" || ipOf(b) != "10.244.3.3" || ipOf(early) != critest.FakePodSandboxIPs[0] || ipOf(host) != critest.FakePodSandboxIPs[0] {
		t.Fatalf("a %s b %s early %s host %s", ipOf(a), ipOf(b), ipOf(early), ipOf(host))
	}
	if err := r.StopPodSandbox(ctx, a); err != nil || ipOf(a) != "10.244.3.2" {
		t.Fatalf("a stopped sandbox keeps its address until removed: %v %s", err, ipOf(a))
	}
	if err := r.RemovePodSandbox(ctx, a); err != nil {
		t.Fatal(err)
	}
	c, _ := r.RunPodSandbox(ctx, sandbox("c", false, nil), "")
	if ipOf(c) != "10.244.3.2" {
		t.Fatalf("the removed sandbox's address is reused: %s", ipOf(c))
	}
}

// fake is the one address the fake runtime gives every sandbox.
var fake = critest.FakePodSandboxIPs[0]

// fakeNodes answers Get with the Node as it stands, counting reads.
type fakeNodes struct {
	node  *v1.Node
	reads int
}

func (f *fakeNodes) Get(_ context.Context, name string, opts metav1.GetOptions) (*v1.Node, error) {
	f.reads++
	if opts.ResourceVersion != "0" {
		return nil, fmt.Errorf("read %s from the API server's cache (resourceVersion 0), not etcd", name)
	}
	if f.node == nil {
		return nil, apierrors.NewNotFound(v1.Resource("nodes"), name)
	}
	return f.node.DeepCopy(), nil
}

func TestFleetPodIPLookup(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	node := func(age time.Duration, cidrs ...string) *v1.Node {
		return &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", CreationTimestamp: metav1.NewTime(start.Add(-age))}, Spec: v1.NodeSpec{PodCIDRs: cidrs}}
	}
	for _, tc := range []struct {
		name   string
		lookup podCIDRLookupMode
		// the Node before each of three sandboxes, and the address each gets
		nodes []*v1.Node
		ips   []string
		reads int
	}{
		{"the Node got its podCIDR before the kubelet passed it on", lookupYoungNode,
			[]*v1.Node{node(time.Second, "10.9.1.0/24"), node(2*time.Second, "10.9.1.0/24"), node(3*time.Second, "10.9.1.0/24")},
			[]string{"10.9.1.2", "10.9.1.3", "10.9.1.4"}, 1},
		{"not registered, then no podCIDR yet, then one", lookupYoungNode,
			[]*v1.Node{nil, node(time.Second), node(2*time.Second, "10.9.2.0/24,fd00::/64")},
			[]string{fake, fake, "10.9.2.2"}, 3},
		{"a young-node lookup stops on a Node a minute old without one", lookupYoungNode,
			[]*v1.Node{node(61 * time.Second), node(62*time.Second, "10.9.3.0/24"), node(63*time.Second, "10.9.3.0/24")},
			[]string{fake, fake, fake}, 1},
		{"always: the stack gives old Nodes a podCIDR at up", lookupAlways,
			[]*v1.Node{node(time.Hour), node(time.Hour, "10.9.4.0/24"), node(time.Hour, "10.9.4.0/24")},
			[]string{fake, "10.9.4.2", "10.9.4.3"}, 2},
		{"never", lookupNever,
			[]*v1.Node{node(time.Second, "10.9.5.0/24"), node(time.Second, "10.9.5.0/24"), node(time.Second, "10.9.5.0/24")},
			[]string{fake, fake, fake}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes := &fakeNodes{}
			r := newPodIPRuntime(critest.NewFakeRuntimeService(), nodes, "n", tc.lookup, func() time.Time { return start })
			for i, n := range tc.nodes {
				nodes.node = n
				id, err := r.RunPodSandbox(ctx, sandbox(fmt.Sprintf("p%d", i), false, nil), "")
				if err != nil {
					t.Fatal(err)
				}
				resp, err := r.PodSandboxStatus(ctx, id, false)
				if err != nil || resp.Status.Network.Ip != tc.ips[i] {
					t.Fatalf("sandbox %d: %v %s, want %s", i, err, resp.GetStatus().GetNetwork().GetIp(), tc.ips[i])
				}
			}
			if host, _ := r.RunPodSandbox(ctx, sandbox("host", true, nil), ""); host == "" || nodes.reads != tc.reads {
				t.Fatalf("%d reads of the Node, want %d (a host-network sandbox reads none)", nodes.reads, tc.reads)
			}
		})
	}
}

func TestFleetPodIPLookupFlag(t *testing.T) {
	var m podCIDRLookupMode
	for _, ok := range []string{"young-node", "always", "never"} {
		if err := m.Set(ok); err != nil || m.String() != ok {
			t.Errorf("%s: %v", ok, err)
		}
	}
	if err := m.Set("sometimes"); err == nil || !strings.Contains(err.Error(), "young-node, always, never") {
		t.Errorf("sometimes: %v", err)
	}
	if podCIDRLookup != lookupYoungNode {
		t.Errorf("default %s", podCIDRLookup)
	}
}

func TestFleetLifecycle(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1000, 0)
	r := withLifecycle(critest.NewFakeRuntimeService()).(*lifecycleRuntime)
	r.now = func() time.Time { return now }
	start := func(pod *runtimeapi.PodSandboxConfig, name string) string {
		id, err := r.RunPodSandbox(ctx, pod, "")
		if err != nil {
			t.Fatal(err)
		}
		cid, err := r.CreateContainer(ctx, id, &runtimeapi.ContainerConfig{
			Metadata: &runtimeapi.ContainerMetadata{Name: name}, Image: &runtimeapi.ImageSpec{Image: "x"},
		}, pod)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.StartContainer(ctx, cid); err != nil {
			t.Fatal(err)
		}
		return cid
	}
	done := start(sandbox("done", false, map[string]string{runSecondsAnnotation: "30"}), "main")
	failed := start(sandbox("failed", false, map[string]string{runSecondsAnnotation: "10", exitCodeAnnotation: "3"}), "main")
	forever := start(sandbox("forever", false, nil), "main")
	bad := start(sandbox("bad", false, map[string]string{runSecondsAnnotation: "soon"}), "main")
	states := func(state runtimeapi.ContainerState) map[string]bool {
		list, err := r.ListContainers(ctx, &runtimeapi.ContainerFilter{State: &runtimeapi.ContainerStateValue{State: state}})
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, c := range list {
			ids[c.Id] = true
		}
		return ids
	}
	status := func(id string) *runtimeapi.ContainerStatus {
		resp, err := r.ContainerStatus(ctx, id, false)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Status
	}
	if len(states(runtimeapi.ContainerState_CONTAINER_RUNNING)) != 4 {
		t.Fatal("all four run at first")
	}
	now = now.Add(10 * time.Second)
	if s := status(failed); s.State != runtimeapi.ContainerState_CONTAINER_EXITED || s.ExitCode != 3 || s.Reason != "Error" || s.FinishedAt != time.Unix(1010, 0).UnixNano() {
		t.Fatalf("failed: %+v", s)
	}
	if status(done).State != runtimeapi.ContainerState_CONTAINER_RUNNING {
		t.Fatal("done runs 30 s")
	}
	now = now.Add(20 * time.Second)
	if s := status(done); s.State != runtimeapi.ContainerState_CONTAINER_EXITED || s.ExitCode != 0 || s.Reason != "Completed" {
		t.Fatalf("done: %+v", s)
	}
	running, exited := states(runtimeapi.ContainerState_CONTAINER_RUNNING), states(runtimeapi.ContainerState_CONTAINER_EXITED)
	if !running[forever] || !running[bad] || running[done] || running[failed] || !exited[done] || !exited[failed] || len(exited) != 2 {
		t.Fatalf("running %v exited %v", running, exited)
	}
	all, _ := r.ListContainers(ctx, nil)
	if len(all) != 4 {
		t.Fatalf("no filter: %d", len(all))
	}
	// A restart is a new container with its own clock.
	if err := r.RemoveContainer(ctx, done); err != nil {
		t.Fatal(err)
	}
	again := start(sandbox("done", false, map[string]string{runSecondsAnnotation: "30"}), "main-1")
	if status(again).State != runtimeapi.ContainerState_CONTAINER_RUNNING {
		t.Fatal("the restarted container runs its 30 s again")
	}
	if _, ok := r.containers[done]; ok {
		t.Fatal("a removed container is forgotten")
	}
}
