// kubemark-pulumi: --node-capacity makes a hollow Node report the machine it stands for, not kubemark's fixed 1 CPU/3.75 GiB.

package app

import (
	goflag "flag"
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/kubernetes/pkg/kubelet/cadvisor"
	"k8s.io/kubernetes/pkg/kubelet/cm"
)

// The hard eviction thresholds a real kubelet defaults to (pkg/kubelet/eviction DefaultEvictionHard), which it
// subtracts from capacity to get allocatable; the stub container manager kubemark runs reserves nothing.
var (
	defaultMemoryAvailable        = resource.MustParse("100Mi")
	defaultNodefsAvailablePercent = int64(10)
	nodeCapacityFlag              = "node-capacity"
	nodeCapacityKeys              = []string{"cpu", "memory", "ephemeral-storage"}
	hollowNodeCapacity            nodeCapacity
	_                             goflag.Value = &hollowNodeCapacity
)

// nodeCapacity is what --node-capacity set. Unset (no flag) changes nothing: the kubelet keeps kubemark's fakes.
type nodeCapacity struct {
	text             string
	set              bool
	cpuCores         int
	memory           *resource.Quantity
	ephemeralStorage *resource.Quantity
}

func init() {
	// Go's flag set is added to the hollow node's own (NewHollowNodeCommand), so hollow_node.go needs no flag edit.
	goflag.Var(&hollowNodeCapacity, nodeCapacityFlag, "Capacity the hollow Node reports, comma separated \"<key>=<quantity>\" "+
		"with keys cpu (whole cores), memory, ephemeral-storage, e.g. cpu=8,memory=32Gi,ephemeral-storage=100Gi. "+
		"Allocatable is capacity less a real kubelet's default hard eviction thresholds (memory 100Mi, ephemeral-storage 10%). "+
		"Unset: kubemark's 1 CPU and 3.75Gi.")
}

func (c *nodeCapacity) String() string { return c.text }

// Set parses the flag; pflag reports an error as `invalid argument "<value>" for "--node-capacity" flag: <error>`.
func (c *nodeCapacity) Set(value string) error {
	parsed, err := parseNodeCapacity(value)
	if err != nil {
		return err
	}
	*c = parsed
	return nil
}

func parseNodeCapacity(value string) (nodeCapacity, error) {
	out := nodeCapacity{text: value}
	if strings.TrimSpace(value) == "" {
		return out, nil
	}
	seen := map[string]bool{}
	for _, item := range strings.Split(value, ",") {
		key, text, found := strings.Cut(strings.TrimSpace(item), "=")
		if !found || key == "" || text == "" {
			return out, fmt.Errorf("%q is not <key>=<quantity> (keys: %s)", item, strings.Join(nodeCapacityKeys, ", "))
		}
		if seen[key] {
			return out, fmt.Errorf("%s is given twice", key)
		}
		seen[key] = true
		q, err := resource.ParseQuantity(text)
		if err != nil {
			return out, fmt.Errorf("%s=%s: %v", key, text, err)
		}
		if q.Sign() <= 0 {
			return out, fmt.Errorf("%s=%s: must be more than 0", key, text)
		}
		switch key {
		case "cpu":
			// cadvisor's MachineInfo.NumCores is an int: a fraction of a core cannot be reported.
			if q.MilliValue()%1000 != 0 {
				return out, fmt.Errorf("cpu=%s: must be whole cores (cadvisor's NumCores is an integer), e.g. cpu=2", text)
			}
			out.cpuCores = int(q.Value())
		case "memory":
			out.memory = &q
		case "ephemeral-storage":
			out.ephemeralStorage = &q
		default:
			return out, fmt.Errorf("unknown key %q (keys: %s)", key, strings.Join(nodeCapacityKeys, ", "))
		}
	}
	out.set = true
	return out, nil
}

// machine overrides what the fake cadvisor reports for the keys the flag set.
func (c nodeCapacity) machine(numCores *int, memoryCapacity *uint64) {
	if c.cpuCores > 0 {
		*numCores = c.cpuCores
	}
	if c.memory != nil {
		*memoryCapacity = uint64(c.memory.Value())
	}
}

// capacity sets ephemeral-storage where the stub reports it (0, and only with LocalStorageCapacityIsolation, as a
// real kubelet does): the nodestatus setter takes it from the container manager, not from cadvisor's RootFsInfo.
func (c nodeCapacity) capacity(list v1.ResourceList) v1.ResourceList {
	if _, reported := list[v1.ResourceEphemeralStorage]; !reported || c.ephemeralStorage == nil {
		return list
	}
	out := list.DeepCopy()
	out[v1.ResourceEphemeralStorage] = c.ephemeralStorage.DeepCopy()
	return out
}

// reservation adds a real kubelet's default hard eviction thresholds to what the container manager reserves.
func (c nodeCapacity) reservation(reserved v1.ResourceList) v1.ResourceList {
	out := reserved.DeepCopy()
	if out == nil {
		out = v1.ResourceList{}
	}
	add := func(name v1.ResourceName, q resource.Quantity) {
		sum := out[name]
		sum.Add(q)
		out[name] = sum
	}
	add(v1.ResourceMemory, defaultMemoryAvailable)
	if c.ephemeralStorage != nil {
		add(v1.ResourceEphemeralStorage, *resource.NewQuantity(c.ephemeralStorage.Value()*defaultNodefsAvailablePercent/100, resource.BinarySI))
	}
	return out
}

// capacityCadvisor reports the flag's cores and memory in MachineInfo (capacity_methods: its signature varies).
type capacityCadvisor struct {
	cadvisor.Interface
	capacity nodeCapacity
}

// capacityContainerManager reports the flag's ephemeral storage and a real kubelet's default reservation.
type capacityContainerManager struct {
	cm.ContainerManager
	capacity nodeCapacity
}

func (m capacityContainerManager) GetNodeAllocatableReservation() v1.ResourceList {
	return m.capacity.reservation(m.ContainerManager.GetNodeAllocatableReservation())
}

// cadvisor and containerManager wrap kubemark's fakes only when the flag was given: without it, nothing changes.
func (c nodeCapacity) cadvisor(fake cadvisor.Interface) cadvisor.Interface {
	if !c.set {
		return fake
	}
	return capacityCadvisor{Interface: fake, capacity: c}
}

func (c nodeCapacity) containerManager(stub cm.ContainerManager) cm.ContainerManager {
	if !c.set {
		return stub
	}
	return capacityContainerManager{ContainerManager: stub, capacity: c}
}
