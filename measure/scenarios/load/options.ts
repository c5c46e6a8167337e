// Scenario load's options: ClusterLoader2's load test (testing/load/config.yaml), its defaults, each knob a flag.
import type { NumberSpec } from "../../optionSpec";

export interface LoadOptions {
    /** CL2's NODES_PER_NAMESPACE: one namespace of objects per this many hollow Nodes. */
    readonly nodesPerNamespace: number;
    /** CL2's BIG_GROUP_SIZE, MEDIUM_GROUP_SIZE, SMALL_GROUP_SIZE: replicas of the big, medium and small objects. */
    readonly bigGroupSize: number;
    readonly mediumGroupSize: number;
    readonly smallGroupSize: number;
    /** Seeds the start times and scale targets; undefined: a fresh one, printed in the report. */
    readonly seed?: number;
    /** The scheduler throughput burst; undefined: max(1000, hollow Nodes) as CL2, 0 skips the phase. */
    readonly throughputPods?: number;
}

export const LOAD_OPTIONS: readonly NumberSpec<keyof LoadOptions>[] = [
    {
        key: "nodesPerNamespace",
        flag: "nodes-per-namespace",
        default: 100,
        min: 1,
        max: 5000,
        integer: true,
        scenarios: ["load"],
        help: "hollow Nodes per namespace of the load (CL2's NODES_PER_NAMESPACE)",
    },
    {
        key: "bigGroupSize",
        flag: "big-group-size",
        default: 250,
        min: 1,
        max: 5000,
        integer: true,
        scenarios: ["load"],
        help: "replicas of the big Deployments and Jobs (CL2's BIG_GROUP_SIZE)",
    },
    {
        key: "mediumGroupSize",
        flag: "medium-group-size",
        default: 30,
        min: 1,
        max: 5000,
        integer: true,
        scenarios: ["load"],
        help: "replicas of the medium Deployments, StatefulSets and Jobs (CL2's MEDIUM_GROUP_SIZE)",
    },
    {
        key: "smallGroupSize",
        flag: "small-group-size",
        default: 5,
        min: 1,
        max: 5000,
        integer: true,
        scenarios: ["load"],
        help: "replicas of the small Deployments, StatefulSets and Jobs (CL2's SMALL_GROUP_SIZE)",
    },
    {
        key: "seed",
        flag: "seed",
        defaultText: "a fresh one, printed",
        min: 0,
        max: 2 ** 31 - 1,
        integer: true,
        scenarios: ["load"],
        help: "seeds start times and scale targets: the same seed repeats a run's plan exactly",
    },
    {
        key: "throughputPods",
        flag: "throughput-pods",
        defaultText: "max(1000, hollow Nodes)",
        min: 0,
        max: 100_000,
        integer: true,
        scenarios: ["load"],
        help: "pods of the scheduler throughput burst; 0 skips the phase",
    },
];
