// kubemark-pulumi: the capacity wrappers' methods whose signatures v1.37 has (a logger; cadvisor lib/model).

package app

import (
	cadvisorapi "github.com/google/cadvisor/lib/model"
	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
)

func (c capacityCadvisor) MachineInfo(logger klog.Logger) (*cadvisorapi.MachineInfo, error) {
	info, err := c.Interface.MachineInfo(logger)
	if err != nil || info == nil {
		return info, err
	}
	out := *info
	c.capacity.machine(&out.NumCores, &out.MemoryCapacity)
	return &out, nil
}

func (m capacityContainerManager) GetCapacity(logger klog.Logger, localStorageCapacityIsolation bool) v1.ResourceList {
	return m.capacity.capacity(m.ContainerManager.GetCapacity(logger, localStorageCapacityIsolation))
}
