// kubemark-pulumi: the capacity wrappers' methods whose signatures v1.29–v1.36 have (no logger; cadvisor info/v1).

package app

import (
	cadvisorapi "github.com/google/cadvisor/info/v1"
	v1 "k8s.io/api/core/v1"
)

func (c capacityCadvisor) MachineInfo() (*cadvisorapi.MachineInfo, error) {
	info, err := c.Interface.MachineInfo()
	if err != nil || info == nil {
		return info, err
	}
	out := *info
	c.capacity.machine(&out.NumCores, &out.MemoryCapacity)
	return &out, nil
}

func (m capacityContainerManager) GetCapacity(localStorageCapacityIsolation bool) v1.ResourceList {
	return m.capacity.capacity(m.ContainerManager.GetCapacity(localStorageCapacityIsolation))
}
