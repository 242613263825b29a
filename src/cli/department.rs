//! `zhengzhao department add|list`.

use std::io::Write;

use anyhow::Result;
use clap::Subcommand;
use serde::Serialize;
use time::OffsetDateTime;
use zhengzhao::platform::Platform;
use zhengzhao::store::Department;

use super::output::{rfc3339, write_json};

/// Departments (颁证单位 / 用证部门).
#[derive(Debug, Subcommand)]
pub enum DepartmentCommand {
    /// Register a department.
    Add {
        /// 统一社会信用代码 (18 characters, with check character).
        #[arg(long)]
        code: String,
        /// Official name.
        #[arg(long)]
        name: String,
        /// 行政区划代码 (6 digits) of its jurisdiction.
        #[arg(long)]
        area: String,
        /// Comma-separated licence type codes it may issue (default: all types; `-`: none, for
        /// a department whose seals sign receipts only).
        #[arg(long, value_delimiter = ',')]
        types: Vec<String>,
    },
    /// List departments.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// A department in `department list --json`.
#[derive(Debug, Serialize)]
struct DepartmentView<'a> {
    code: &'a str,
    name: &'a str,
    area: &'a str,
    type_codes: &'a [String],
    created_at: String,
}

impl<'a> From<&'a Department> for DepartmentView<'a> {
    fn from(d: &'a Department) -> Self {
        Self {
            code: d.code.as_str(),
            name: &d.name,
            area: d.area.as_str(),
            type_codes: &d.type_codes,
            created_at: rfc3339(d.created_at),
        }
    }
}

/// Runs a `department` subcommand.
pub async fn run(
    platform: &Platform,
    cmd: DepartmentCommand,
    now: OffsetDateTime,
    out: &mut impl Write,
) -> Result<()> {
    match cmd {
        DepartmentCommand::Add { code, name, area, types } => {
            let d = platform.pki.add_department(&code, &name, &area, &types, now).await?;
            writeln!(
                out,
                "added department {} {} (area {}, may issue {})",
                d.code,
                d.name,
                d.area,
                if d.type_codes.is_empty() { "no licence type".to_owned() } else { d.type_codes.join(",") }
            )?;
        }
        DepartmentCommand::List { json } => {
            let list = platform.pki.departments().await?;
            if json {
                write_json(out, &list.iter().map(DepartmentView::from).collect::<Vec<_>>())?;
            } else {
                for d in list {
                    writeln!(out, "{}  {}  {}", d.code, d.area, d.name)?;
                }
            }
        }
    }
    Ok(())
}
