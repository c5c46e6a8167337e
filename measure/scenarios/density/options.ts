// Scenario density's options: Deployments of one size, created, scaled and deleted at an even pace.
import type { NumberSpec } from "../../optionSpec";

export interface DensityOptions {
    readonly podsPerDeployment: number;
    readonly scaleDownPercent: number;
}

export const DENSITY_OPTIONS: readonly NumberSpec<keyof DensityOptions>[] = [
    {
        key: "podsPerDeployment",
        flag: "pods-per-deployment",
        default: 5,
        min: 1,
        max: 1000,
        integer: true,
        scenarios: ["density"],
        help: "replicas of each Deployment",
    },
    {
        key: "scaleDownPercent",
        flag: "scale-down-percent",
        default: 50,
        min: 0,
        max: 100,
        integer: true,
        scenarios: ["density"],
        help: "share of pods removed and brought back in the scale phase; 0 skips it",
    },
];
