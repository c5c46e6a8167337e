// OwnershipGuard: the stack's first resource; it refuses names another owner holds before anything is created.
import * as pulumi from "@pulumi/pulumi";
import { DynamicArgs } from "../kube/dynamic";
import { DynamicResource } from "../kube/dynamicResource";
import { OWNERSHIP_PROVIDER_VERSION, OwnershipGuardInputs, OwnershipGuardProvider } from "./provider";

/** Everything the stack creates depends on it, so a refused check leaves both clusters untouched. */
export class OwnershipGuard extends DynamicResource {
    constructor(name: string, args: DynamicArgs<OwnershipGuardInputs>, opts?: pulumi.CustomResourceOptions) {
        super(new OwnershipGuardProvider(), "OwnershipGuard", name,
            { ...args, providerVersion: OWNERSHIP_PROVIDER_VERSION },
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["nodeKubeconfig", "targetKubeconfig"] }));
    }
}
