//! `crossplan completions SHELL` and `crossplan man`: generated from the clap
//! definitions in `crate::cli`, so they never disagree with `--help`.

use std::io::Write as _;

use clap::CommandFactory as _;

use crate::cli::{Cli, CompletionsArgs};
use crate::exit;

/// Print the completion script for `args.shell`.
pub fn completions(args: &CompletionsArgs) -> anyhow::Result<u8> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "crossplan", &mut out);
    std::io::stdout().lock().write_all(&out)?;
    Ok(exit::OK)
}

/// Print the man page: `crossplan(1)` with every subcommand's options.
pub fn man() -> anyhow::Result<u8> {
    let mut out = Vec::new();
    let cmd = Cli::command();
    clap_mangen::Man::new(cmd.clone()).render(&mut out)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        // Each subcommand as a section of the one page, with its options.
        let mut page = Vec::new();
        let man = clap_mangen::Man::new(sub.clone());
        man.render_name_section(&mut page)?;
        man.render_synopsis_section(&mut page)?;
        man.render_description_section(&mut page)?;
        man.render_options_section(&mut page)?;
        let text = String::from_utf8_lossy(&page)
            .replace(
                ".SH NAME",
                &format!(
                    ".SH \"CROSSPLAN {}\"",
                    sub.get_name()
                        .trim_start_matches("crossplan ")
                        .to_uppercase()
                ),
            )
            .replace(".SH SYNOPSIS", ".SS SYNOPSIS")
            .replace(".SH DESCRIPTION", ".SS DESCRIPTION")
            .replace(".SH OPTIONS", ".SS OPTIONS");
        out.extend_from_slice(text.as_bytes());
    }
    std::io::stdout().lock().write_all(&out)?;
    Ok(exit::OK)
}
