// Scenario density as the command line runs it.
import { poolPreconditions } from "../../phases/poolReport";
import type { ScenarioRunner } from "../scenario";
import { densityCharts, densityMarkdown, densityRows } from "./report";
import { DensityOutcome, runDensity } from "./run";

export const densityScenario: ScenarioRunner<DensityOutcome> = {
    name: "density",
    onLiveRun: "refuse",
    createsNothing: "nothing was created",
    run: runDensity,
    rows: densityRows,
    charts: densityCharts,
    markdown: densityMarkdown,
    preconditions: (o) => poolPreconditions(o.pools),
    json: (o) => ({ density: o }),
};
