//! Fuzz target: bytes → the bulk import's line reader, then each line as a JSONL licence
//! line and (after the first, taken as the header) as a CSV row through a mapping of every
//! target. Any outcome is fine, quickly and without panicking; a refused line keeps its
//! number.

#![no_main]

use libfuzzer_sys::fuzz_target;
use zhengzhao::platform::import::{CsvMapping, CsvPlan, Line, LineReader, parse_json_line};

fuzz_target!(|data: &[u8]| {
    let targets = [
        "source_id", "seal_id", "issued_on", "holder.name", "holder.code", "holder.code_type", "valid_from",
        "valid_until", "matter.code", "matter.name", "fields.k",
    ];
    let columns = targets.iter().zip('a'..).map(|(t, c)| (t.to_string(), c.to_string())).collect();
    let mapping =
        CsvMapping { type_code: "T".into(), seal_id: None, ofd_seal_id: None, document: None, delimiter: None, columns };
    let Ok(plan) = CsvPlan::new(mapping, "a,b,c,d,e,f,g,h,i,j,k") else { return };
    let mut reader = LineReader::new(data, 4096);
    while let Ok(Some((n, line))) = reader.next_line() {
        if let Line::Text(text) = line {
            if let Err(e) = parse_json_line(n, text) {
                assert_eq!(e.line, n);
            }
            if let Err(e) = plan.parse_row(n, text) {
                assert_eq!(e.line, n);
            }
        }
    }
});
