/**
 * Property tests under mutation: 25 runs each instead of 100, and no shrinking. A mutant is
 * killed by the first counterexample, whatever its size; most laws find one in their first few
 * runs, and the normal suites keep the full 100 runs and shrinking. Without this, the property
 * tests covering a mutant take most of a run's hours on 2 cores.
 */
import { Arbitrary } from "effect"

Arbitrary.configureGlobal({ check: { runs: 25, maxShrinks: 0 } })
