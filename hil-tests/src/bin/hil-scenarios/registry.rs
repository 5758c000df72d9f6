//! The function of each scenario of the registry (`hil_tests::registry!`, in `src/lib.rs`), which
//! names it as `module::function`: the one list both this program and the runner read.

use crate::{Check, Ctx};

/// A scenario's function.
pub type Run = fn(&Ctx) -> Check;

/// Makes [`FUNCTIONS`] of the registry: each scenario's name with its function.
macro_rules! function_table {
    ($($module:ident :: $name:ident, $guests:ident, $about:literal;)*) => {
        /// Every scenario's name and function, in the registry's order.
        const FUNCTIONS: &[(&str, Run)] = &[$((stringify!($name), crate::$module::$name as Run)),*];
    };
}

hil_tests::registry!(function_table);

/// The function of the scenario `name`.
pub fn function(name: &str) -> Option<Run> {
    FUNCTIONS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_unknown_scenario_has_no_function() {
        assert!(super::function("no_such_scenario").is_none());
    }
}
