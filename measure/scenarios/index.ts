// Every scenario of `npm run measure`, by name: a new scenario is a folder and a line here.
import type { Scenario } from "../optionSpec";
import { churnScenario } from "./churn";
import { densityScenario } from "./density";
import { loadScenario } from "./load";
import type { Outcome, ScenarioRunner } from "./scenario";

export const SCENARIO_RUNNERS: Readonly<Record<Scenario, ScenarioRunner<Outcome>>> = {
    load: loadScenario as unknown as ScenarioRunner<Outcome>,
    density: densityScenario as unknown as ScenarioRunner<Outcome>,
    churn: churnScenario as unknown as ScenarioRunner<Outcome>,
};
