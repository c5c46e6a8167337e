// Dynamic resources guarding the target cluster: NodeReaper (destroy) and HollowNodeSync (up).
import * as pulumi from "@pulumi/pulumi";
import { DynamicArgs } from "../kube/dynamic";
import { DynamicResource } from "../kube/dynamicResource";
import {
    HollowNodeSyncInputs, HollowNodeSyncProvider, NodeReaperInputs, NodeReaperProvider, PROVIDER_VERSION, SYNC_PROVIDER_VERSION,
} from "./provider";

const CREDENTIALS = ["targetKubeconfig", "nodeKubeconfig"];

/** Deletes this stack's hollow Nodes and Leases from the target on destroy; the workload depends on it. */
export class NodeReaper extends DynamicResource {
    /** How long destroy may take, for the record in state. */
    declare readonly timeoutSeconds: pulumi.Output<number>;
    declare readonly selector: pulumi.Output<string>;

    constructor(name: string, args: DynamicArgs<NodeReaperInputs>, opts?: pulumi.CustomResourceOptions) {
        super(new NodeReaperProvider(), "NodeReaper", name,
            { ...args, providerVersion: PROVIDER_VERSION },
            pulumi.mergeOptions(opts, { additionalSecretOutputs: CREDENTIALS }));
    }
}

/** After the workload changes: removes Nodes no pod stands behind, then waits for Ready Nodes. */
export class HollowNodeSync extends DynamicResource {
    declare readonly readyNodes: pulumi.Output<number>;
    declare readonly registeredNodes: pulumi.Output<number>;
    declare readonly sweptNodes: pulumi.Output<number>;

    constructor(name: string, args: DynamicArgs<HollowNodeSyncInputs>, opts?: pulumi.CustomResourceOptions) {
        super(new HollowNodeSyncProvider(), "HollowNodeSync", name,
            { ...args, providerVersion: SYNC_PROVIDER_VERSION, readyNodes: undefined, registeredNodes: undefined, sweptNodes: undefined },
            pulumi.mergeOptions(opts, { additionalSecretOutputs: CREDENTIALS }));
    }
}
