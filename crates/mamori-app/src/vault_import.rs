//! Importing customer records into the vault from CSV/TSV/xlsx in any encoding the scanner
//! reads, and the text encodings Excel users need on the way out.
//!
//! Columns are mapped to fields from the headers (a header naming a field, the scanner's column
//! inference, a few words for the kinds the scanner does not detect), unless `--map HEADER=FIELD`
//! says otherwise. Each row is checked in the domain; a card number anywhere refuses the row;
//! passwords are kept only as Argon2id. Rows are sealed on all cores and written 2,000 at a
//! time with the import's progress in the same transaction, so a stopped import resumes where
//! it stopped (same file, same dataset) and never writes a row twice.

use crate::vault::{schema_of, VaultState};
use crate::vault_keys::{seal_record, wrap_dek, Dek, Layout};
use crate::{App, AppError, Ctx};
use mamori_domain::audit::Outcome;
use mamori_domain::incident::jst_date;
use mamori_domain::role::Permission;
use mamori_domain::vault::schema::{check_value, classify_password, PasswordForm};
use mamori_domain::vault::{normalize, FieldKind, FieldSpec, Schema};
use mamori_store::vault::{NewRecord, Reject};
use serde_json::json;
use sha2::Digest;

/// Rows per transaction unless the caller says otherwise. Large batches matter on SQLite: a
/// batch dirties pages all over the blind index (a B-tree of random keys), and each commit
/// writes every dirty page once, so the cost per row falls with the batch size.
pub const BATCH: usize = 50_000;

/// Decodes a text file as the scanner would (BOM, UTF-16, Shift_JIS/CP932, EUC-JP, UTF-8) and
/// refuses one that does not decode cleanly, naming the encoding.
pub fn decode_text(bytes: &[u8]) -> Result<String, AppError> {
    let sniffed = mamori_detect::decode::sniff(
        &bytes[..bytes.len().min(mamori_detect::decode::SNIFF_LEN)],
        bytes.len() <= mamori_detect::decode::SNIFF_LEN,
    );
    if sniffed.binary {
        return Err(AppError::invalid(
            "file",
            "テキストファイルではありません（CSV・TSV・xlsxを指定してください）",
            "not a text file (give a CSV, TSV or xlsx file)",
        ));
    }
    let body = &bytes[sniffed.bom_len..];
    let (text, had_errors) = sniffed.encoding.decode_without_bom_handling(body);
    if had_errors || sniffed.utf8_errors {
        // Find the first bad line for the message.
        let line = match std::str::from_utf8(body) {
            Err(e) if sniffed.encoding == encoding_rs::UTF_8 => {
                memchr_count(&body[..e.valid_up_to()]) + 1
            }
            _ => 0,
        };
        let at = if line > 0 {
            format!("（{line}行目）")
        } else {
            String::new()
        };
        let at_en = if line > 0 {
            format!(" (line {line})")
        } else {
            String::new()
        };
        return Err(AppError::invalid(
            "file",
            format!(
                "ファイルを{}として読めない箇所があります{at}。文字コードを確認してください",
                sniffed.name()
            ),
            format!(
                "the file does not decode as {}{at_en}; check its encoding",
                sniffed.name()
            ),
        ));
    }
    Ok(text.into_owned())
}

fn memchr_count(b: &[u8]) -> usize {
    b.split(|&c| c == b'\n').count() - 1
}

/// UTF-8 with a BOM, or CP932 with 〓 for what it cannot hold (see `mamori_detect::csv_out`).
pub fn encode_for_excel(text: &str, cp932: bool) -> Vec<u8> {
    mamori_detect::csv_out::encode_for_excel(text, cp932)
}

/// A table read from a file: header and rows (row numbers as a spreadsheet shows them).
pub struct Table {
    pub header: Vec<String>,
    pub rows: TableRows,
}

pub enum TableRows {
    /// CSV/TSV text, read record by record.
    Text { text: String, delimiter: u8 },
    /// Spreadsheet rows, already read.
    Sheet(Vec<(u64, Vec<String>)>),
}

/// Reads the header and prepares the rows of a CSV/TSV/xlsx/xls/ods file.
pub fn read_table(bytes: &[u8], file_name: &str) -> Result<Table, AppError> {
    let lower = file_name.to_ascii_lowercase();
    let is_sheet = [".xlsx", ".xlsm", ".xls", ".ods"]
        .iter()
        .any(|e| lower.ends_with(e))
        || bytes.starts_with(b"PK\x03\x04")
        || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
    if is_sheet {
        let mut first: Option<Vec<(u64, Vec<String>)>> = None;
        // Within the scanner's limits: a sheet over them is refused, naming the file and why,
        // before anything is written.
        mamori_detect::sheets::read_sheets(
            bytes,
            &mamori_detect::sheets::SheetLimits::default(),
            |_, rows| {
                if first.is_none() {
                    first = Some(rows);
                }
            },
        )
        .map_err(|e| {
            AppError::invalid(
                "file",
                format!("{file_name}: {}", e.ja()),
                format!("{file_name}: {e}"),
            )
        })?;
        let mut rows = first.unwrap_or_default();
        rows.retain(|(_, r)| r.iter().any(|c| !c.trim().is_empty()));
        if rows.is_empty() {
            return Err(empty_file());
        }
        let header = rows.remove(0).1;
        return Ok(Table {
            header,
            rows: TableRows::Sheet(rows),
        });
    }
    let text = decode_text(bytes)?;
    let first_line = text.lines().next().unwrap_or("");
    let delimiter = if std::path::Path::new(&lower)
        .extension()
        .is_some_and(|e| e == "tsv")
        || first_line.matches('\t').count() > first_line.matches(',').count()
    {
        b'\t'
    } else {
        b','
    };
    let header = {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        let mut rec = csv::StringRecord::new();
        if !rdr.read_record(&mut rec).map_err(|e| bad_csv(&e))? {
            return Err(empty_file());
        }
        rec.iter().map(|h| unguard(h).trim().to_owned()).collect()
    };
    Ok(Table {
        header,
        rows: TableRows::Text { text, delimiter },
    })
}

/// A CSV cell as mamori wrote it for Excel, back to its value (`csv_out::from_excel_cell`), so
/// that an export imported again keeps `=`, `+`, `-`, `@` at the start of a value.
fn unguard(cell: &str) -> String {
    mamori_detect::csv_out::from_excel_cell(cell).to_owned()
}

fn empty_file() -> AppError {
    AppError::invalid(
        "file",
        "ファイルにデータがありません",
        "the file holds no rows",
    )
}

fn bad_csv(e: &csv::Error) -> AppError {
    let line = e.position().map_or(0, csv::Position::line);
    AppError::invalid(
        "file",
        format!("CSVの{line}行目を読めません（引用符の対応などを確認してください）"),
        format!("cannot read line {line} of the CSV (check the quotes)"),
    )
}

/// Whether a header names card numbers (not a payment provider's token).
fn is_card_header(h: &str) -> bool {
    let h = normalize::nfkc(h).to_lowercase();
    let has = |ws: &[&str]| ws.iter().any(|w| h.contains(w));
    has(&["カード", "card"]) && !has(&["トークン", "token"])
}

/// Words in headers for the field kinds the scanner does not detect.
fn header_kind(h: &str) -> Option<FieldKind> {
    if is_card_header(h) {
        return None;
    }
    let h = normalize::nfkc(h).to_lowercase();
    let has = |ws: &[&str]| ws.iter().any(|w| h.contains(w));
    Some(if has(&["フリガナ", "ふりがな", "カナ", "かな", "kana"]) {
        FieldKind::KanaName
    } else if has(&["パスワード", "password", "passwd"]) {
        FieldKind::PasswordHash
    } else if has(&["トークン", "token"]) {
        FieldKind::PaymentToken
    } else if has(&["性別", "gender", "sex"]) {
        FieldKind::Gender
    } else if has(&["ログイン", "login"]) {
        FieldKind::LoginId
    } else if has(&[
        "顧客id",
        "顧客番号",
        "会員id",
        "会員番号",
        "customer",
        "member",
    ]) {
        FieldKind::CustomerId
    } else if has(&["生年月日", "誕生日", "birth"]) {
        FieldKind::BirthDate
    } else if has(&[
        "発送日",
        "出荷日",
        "配送日",
        "注文日",
        "受注日",
        "日付",
        "date",
        "dispatch",
        "shipped",
    ]) {
        FieldKind::Date
    } else if has(&["備考", "メモ", "問い合わせ内容", "note", "memo", "comment"]) {
        FieldKind::Text
    } else {
        return None;
    })
}

fn detect_kind(k: mamori_detect::Kind) -> Option<FieldKind> {
    use mamori_detect::Kind as K;
    Some(match k {
        K::PersonName => FieldKind::Name,
        K::Address => FieldKind::Address,
        K::PostalCode => FieldKind::PostalCode,
        K::Phone => FieldKind::Phone,
        K::Email => FieldKind::Email,
        K::BirthDate => FieldKind::BirthDate,
        _ => return None,
    })
}

/// The kind of each column, from its header and a sample of its values.
pub fn infer_kinds(header: &[String], sample: &[Vec<String>]) -> Vec<Option<FieldKind>> {
    static ENGINE: std::sync::LazyLock<mamori_detect::Engine> =
        std::sync::LazyLock::new(|| mamori_detect::Engine::new(mamori_detect::KindSet::all()));
    let detected = mamori_detect::columns::infer(&ENGINE, Some(header), sample);
    header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            // Our own words first: フリガナ is a name to the scanner but kana here.
            header_kind(h).or_else(|| detected.get(i).copied().flatten().and_then(detect_kind))
        })
        .collect()
}

/// Maps columns to schema fields: `--map` first, then a header equal to a field name, then the
/// inferred kind (the first field of that kind not yet taken). `None`: the column is not
/// imported.
pub fn map_columns(
    schema: &Schema,
    header: &[String],
    kinds: &[Option<FieldKind>],
    explicit: &[(String, String)],
) -> Result<Vec<Option<usize>>, AppError> {
    let mut map = vec![None; header.len()];
    let mut taken = vec![false; schema.fields.len()];
    for (h, f) in explicit {
        let col = header.iter().position(|x| x == h).ok_or_else(|| {
            AppError::invalid(
                "map",
                format!("--map: 見出し「{h}」がファイルにありません"),
                format!("--map: the file has no column `{h}`"),
            )
        })?;
        if f == "-" {
            map[col] = Some(usize::MAX);
            continue;
        }
        let fi = schema.index_of(f).ok_or_else(|| {
            AppError::invalid(
                "map",
                format!(
                    "--map: 「{f}」はこの台帳の項目ではありません（{}）",
                    schema.to_text()
                ),
                format!(
                    "--map: `{f}` is not a field of this dataset ({})",
                    schema.to_text()
                ),
            )
        })?;
        map[col] = Some(fi);
        taken[fi] = true;
    }
    for (col, h) in header.iter().enumerate() {
        if map[col].is_some() {
            continue;
        }
        if let Some(fi) = schema
            .fields
            .iter()
            .position(|f| f.name.eq_ignore_ascii_case(h.trim()))
            .filter(|&fi| !taken[fi])
        {
            map[col] = Some(fi);
            taken[fi] = true;
        }
    }
    for (col, kind) in kinds.iter().enumerate() {
        if map[col].is_some() {
            continue;
        }
        if let Some(k) = kind {
            if let Some(fi) =
                (0..schema.fields.len()).find(|&fi| !taken[fi] && schema.fields[fi].kind == *k)
            {
                map[col] = Some(fi);
                taken[fi] = true;
            }
        }
    }
    Ok(map
        .into_iter()
        .map(|m| m.filter(|&fi| fi != usize::MAX))
        .collect())
}

/// A schema for a new dataset made from the file's columns (`--create`).
pub fn schema_from_columns(
    header: &[String],
    kinds: &[Option<FieldKind>],
) -> Result<Schema, AppError> {
    let mut fields: Vec<FieldSpec> = Vec::new();
    for (i, k) in kinds.iter().enumerate() {
        let kind = k.unwrap_or(FieldKind::Text);
        let base = if k.is_some() {
            kind.code().to_owned()
        } else {
            format!("col_{}", i + 1)
        };
        let mut name = base.clone();
        let mut n = 2;
        while fields.iter().any(|f| f.name == name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        let _ = header;
        fields.push(FieldSpec::new(name, kind));
    }
    Schema::new(fields).map_err(|e| AppError::invalid("file", e.to_string(), e.to_string()))
}

/// Whether a value holds a credit card number: 13–19 digits (spaces or hyphens between
/// groups allowed) that pass Luhn and carry a card brand's prefix.
pub fn holds_card_number(v: &str) -> bool {
    // Most values hold fewer than 13 digits of any width: nothing to look at.
    let digits = v
        .chars()
        .filter(|c| c.is_ascii_digit() || ('０'..='９').contains(c))
        .count();
    if digits < 13 {
        return false;
    }
    let n = normalize::nfkc(v);
    let b = n.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let mut digits = Vec::with_capacity(19);
        let mut j = i;
        while j < b.len() && digits.len() <= 19 {
            if b[j].is_ascii_digit() {
                digits.push(b[j]);
                j += 1;
            } else if (b[j] == b' ' || b[j] == b'-') && j + 1 < b.len() && b[j + 1].is_ascii_digit()
            {
                j += 1;
            } else {
                break;
            }
        }
        for len in (13..=digits.len().min(19)).rev() {
            let d = &digits[..len];
            if mamori_detect::validate::luhn(d) && mamori_detect::validate::card_brand(d).is_some()
            {
                return true;
            }
        }
        i = j.max(i + 1);
    }
    false
}

/// One row after checking: values in schema order, or why it was refused.
pub(crate) fn check_row(
    schema: &Schema,
    map: &[Option<usize>],
    cells: &[&str],
    today: chrono::NaiveDate,
) -> Result<Vec<Option<String>>, (String, String)> {
    let mut values: Vec<Option<String>> = vec![None; schema.fields.len()];
    for (col, fi) in map.iter().enumerate() {
        let Some(fi) = *fi else { continue };
        let raw = cells.get(col).copied().unwrap_or("");
        let f = &schema.fields[fi];
        if holds_card_number(raw) {
            return Err((
                f.name.clone(),
                "クレジットカード番号のため取り込めません（決済代行会社のトークンだけを保存できます） / a credit card number: only a payment provider's token may be stored".into(),
            ));
        }
        let v = check_value(f.kind, raw, today)
            .map_err(|e| (f.name.clone(), format!("{} / {e}", value_error_ja(&e))))?;
        let v = match (f.kind, v) {
            (FieldKind::PasswordHash, Some(p)) => match classify_password(&p) {
                PasswordForm::Argon2id => Some(p),
                PasswordForm::OtherHash => {
                    let e = mamori_domain::vault::ValueError::WeakPasswordHash;
                    return Err((f.name.clone(), format!("{} / {e}", value_error_ja(&e))));
                }
                PasswordForm::Plain => Some(
                    crate::auth::hash_password(&p)
                        .map_err(|_| (f.name.clone(), "hashing failed".to_owned()))?,
                ),
            },
            (_, v) => v,
        };
        values[fi] = v;
    }
    if values.iter().all(Option::is_none) {
        return Err((String::new(), "空の行です / an empty row".into()));
    }
    Ok(values)
}

fn value_error_ja(e: &mamori_domain::vault::ValueError) -> String {
    use mamori_domain::vault::ValueError as V;
    match e {
        V::TooLong(n) => format!("{n}文字を超えています"),
        V::Control => "制御文字が含まれています".into(),
        V::Email => "メールアドレスの形式ではありません".into(),
        V::Phone => "日本の電話番号の形式ではありません".into(),
        V::PostalCode => "郵便番号の形式ではありません".into(),
        V::Date => "日付として読めません".into(),
        V::BirthDateRange => "生年月日が未来または1900年より前です".into(),
        V::CardNumber => "クレジットカード番号です".into(),
        V::WeakPasswordHash => "Argon2id以外のパスワードハッシュは保存できません".into(),
    }
}

/// Seals one checked row into a record ready to insert.
#[expect(
    clippy::too_many_arguments,
    reason = "the parts of one row, borrowed from the batch"
)]
pub(crate) fn seal_row(
    v: &VaultState,
    keys: &crate::vault_keys::IndexKeys,
    schema: &Schema,
    dataset_id: i64,
    date_field: Option<usize>,
    id: i64,
    import_row: Option<i64>,
    values: &[Option<String>],
) -> Result<NewRecord, AppError> {
    let dek = Dek::generate();
    let version = v.current();
    let wrapped = wrap_dek(v.provider.as_ref(), version, &dek, id)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(NewRecord {
        id,
        import_row,
        sealed: seal_record(&dek, &Layout::of(dataset_id, schema), id, values),
        retention_date: date_field.and_then(|i| values[i].clone()),
        key_version: i64::from(version),
        wrapped,
        digests: crate::vault::digests_of(keys, schema, values, id)
            .into_iter()
            .map(|(d, _)| d)
            .collect(),
    })
}

/// The rows of a table, read one by one: (row number, cells).
type RowIter = Box<dyn Iterator<Item = Result<(i64, Vec<String>), AppError>> + Send>;

/// One batch, checked and sealed, ready to write.
struct SealedBatch {
    records: Vec<NewRecord>,
    rejects: Vec<Reject>,
    to_row: i64,
}

/// How an import is asked for.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub dataset: String,
    pub create: bool,
    pub map: Vec<(String, String)>,
    pub file_name: String,
    /// For `--create`: the owning department (by name) and the purpose of use.
    pub department: Option<String>,
    pub purpose: Option<String>,
    /// The company (by code) when the command line serves several.
    pub company: Option<String>,
    /// Rows per transaction (default `BATCH`); a stopped import resumes after the last batch.
    pub batch: Option<usize>,
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub import_id: i64,
    pub dataset_id: i64,
    pub created_dataset: bool,
    pub resumed_from: Option<i64>,
    pub imported: i64,
    pub rejected: i64,
    /// (header, field) for every column; `None`: not imported.
    pub mapping: Vec<(String, Option<String>)>,
    /// The columns left out that hold card numbers (by header or by value): never stored.
    pub card_columns: Vec<String>,
    /// The first rejected rows.
    pub rejects: Vec<Reject>,
    /// The import was stopped (by the caller) before the end; running it again resumes.
    pub stopped: bool,
}

impl App {
    async fn import_company(&self, ctx: &Ctx, code: Option<&str>) -> Result<i64, AppError> {
        if let Some(c) = ctx.company_scope() {
            return Ok(c);
        }
        let companies = self.store.list_companies().await?;
        match code {
            Some(code) => companies
                .iter()
                .find(|c| c.code == code)
                .map(|c| c.id)
                .ok_or_else(|| {
                    AppError::invalid(
                        "company",
                        format!("会社コード「{code}」がありません"),
                        format!("no company with code `{code}`"),
                    )
                }),
            None if companies.len() == 1 => Ok(companies[0].id),
            None if companies.is_empty() => Err(AppError::invalid(
                "company",
                "会社がまだありません。`mamori admin create-company --code CODE --name 会社名` で作成してください",
                "there is no company yet: create one with `mamori admin create-company --code CODE --name NAME`",
            )),
            None => Err(AppError::invalid(
                "company",
                "会社が複数あります。--company で会社コードを指定してください",
                "there are several companies: name one with --company CODE",
            )),
        }
    }

    /// Imports a file into a dataset (see the module documentation). `progress` is called after
    /// each batch with the rows done so far; when it answers false the import stops there (every
    /// batch written so far stays) and can be resumed by importing the same file again.
    pub async fn vault_import(
        &self,
        ctx: &Ctx,
        bytes: &[u8],
        opts: &ImportOptions,
        progress: &(dyn Fn(i64) -> bool + Sync),
    ) -> Result<ImportReport, AppError> {
        if !ctx.allows(Permission::ManageVault) {
            return Err(self.denied(ctx, "vault.import", "vault").await);
        }
        let v = self.vault_state()?;
        let company_id = self.import_company(ctx, opts.company.as_deref()).await?;
        let table = read_table(bytes, &opts.file_name)?;
        let sample: Vec<Vec<String>> = match &table.rows {
            TableRows::Sheet(rows) => rows.iter().take(200).map(|(_, r)| r.clone()).collect(),
            TableRows::Text { text, delimiter } => csv::ReaderBuilder::new()
                .has_headers(true)
                .flexible(true)
                .delimiter(*delimiter)
                .from_reader(text.as_bytes())
                .records()
                .take(200)
                .filter_map(Result::ok)
                .map(|r| r.iter().map(unguard).collect())
                .collect(),
        };
        let kinds = infer_kinds(&table.header, &sample);
        let mut report = ImportReport::default();
        let d = match self
            .store
            .dataset_by_name(company_id, opts.dataset.trim())
            .await
        {
            Ok(d) => d,
            Err(mamori_store::StoreError::NotFound) if opts.create => {
                let schema = schema_from_columns(&table.header, &kinds)?;
                let depts = self.store.list_departments(company_id).await?;
                let dept = match &opts.department {
                    Some(n) => depts.iter().find(|d| &d.name == n).ok_or_else(|| {
                        let known = depts.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ");
                        AppError::invalid(
                            "department",
                            format!("部署「{n}」がありません（あるもの: {known}）"),
                            format!("no department `{n}` (known: {known})"),
                        )
                    })?,
                    None => depts.iter().find(|d| d.parent_id.is_none()).ok_or_else(|| {
                        AppError::invalid(
                            "department",
                            "会社に部署がまだありません。台帳の担当部署が必要です: `mamori admin create-department --name 部署名` で作成してください",
                            "the company has no department yet, and a dataset needs an owning department: create one with `mamori admin create-department --name NAME`",
                        )
                    })?,
                };
                let id = self
                    .create_dataset(
                        &Ctx::local(),
                        mamori_domain::ledger::DatasetInput {
                            name: opts.dataset.clone(),
                            department_id: dept.id,
                            items: schema.items(),
                            purpose: opts.purpose.clone().unwrap_or_else(|| {
                                "（取込時に作成されました。利用目的を記入してください）".into()
                            }),
                            storage_place: "mamori 保管庫（暗号化）".into(),
                            storage_method:
                                "項目ごとに暗号化（XChaCha20-Poly1305、本人ごとのデータ鍵）".into(),
                            ..Default::default()
                        },
                    )
                    .await?;
                let row = self.store.get_dataset(id).await?;
                self.set_vault_schema(&Ctx::local(), id, row.version, &schema.to_text(), None)
                    .await?;
                report.created_dataset = true;
                self.store.get_dataset(id).await?
            }
            Err(mamori_store::StoreError::NotFound) => {
                return Err(AppError::invalid(
                    "dataset",
                    format!(
                        "台帳「{}」がありません（新しく作るときは --create を付けてください）",
                        opts.dataset
                    ),
                    format!(
                        "no dataset `{}` (add --create to make it from the file's columns)",
                        opts.dataset
                    ),
                ))
            }
            Err(e) => return Err(e.into()),
        };
        let schema = schema_of(&d)?;
        let map = map_columns(&schema, &table.header, &kinds, &opts.map)?;
        if map.iter().all(Option::is_none) {
            return Err(AppError::invalid(
                "map",
                "どの列も台帳の項目に対応しません。--map 見出し=項目 で指定してください",
                "no column maps to a field of the dataset: use --map HEADER=FIELD",
            ));
        }
        report.mapping = table
            .header
            .iter()
            .zip(&map)
            .map(|(h, m)| (h.clone(), m.map(|fi| schema.fields[fi].name.clone())))
            .collect();
        report.card_columns = table
            .header
            .iter()
            .enumerate()
            .filter(|&(col, h)| {
                map[col].is_none()
                    && (is_card_header(h)
                        || sample
                            .iter()
                            .any(|row| row.get(col).is_some_and(|v| holds_card_number(v))))
            })
            .map(|(_, h)| h.clone())
            .collect();
        let sha = hex::encode(sha2::Sha256::digest(bytes));
        let mapping_json = serde_json::to_string(&report.mapping).expect("mapping serialises");
        let now = self.clock.now_micros();
        let (import_id, start_row) = match self.store.running_import(d.id, &sha).await? {
            Some(run) if run.mapping == mapping_json => {
                report.resumed_from = Some(run.next_row);
                report.imported = run.imported;
                report.rejected = run.rejected;
                (run.id, run.next_row)
            }
            Some(_) => {
                return Err(AppError::invalid(
                    "map",
                    "同じファイルの取込が途中のまま残っていますが、列の対応が違います。同じ --map で再開するか、取消してください",
                    "an unfinished import of this file used another column mapping: resume with the same --map, or roll it back",
                ))
            }
            None => {
                let id = self
                    .store
                    .start_import(d.id, &opts.file_name, &sha, &mapping_json, ctx.actor_id(), now)
                    .await?;
                (id, 0)
            }
        };
        report.import_id = import_id;
        report.dataset_id = d.id;
        self.audit(
            ctx,
            "vault.import.start",
            &format!("dataset:{}", d.id),
            Outcome::Success,
            json!({"import": import_id, "resumed_from": report.resumed_from, "file": opts.file_name}),
        )
        .await?;
        // Reading, checking and sealing run on a blocking thread (sealing on all cores) while
        // this task writes the previous batch: the two overlap.
        let date_field = schema.first_of(FieldKind::Date);
        let keys = v.index_keys(d.id);
        let today = jst_date(now);
        let mut rows_iter: RowIter = match table.rows {
            TableRows::Sheet(rows) => Box::new(rows.into_iter().map(|(n, r)| Ok((n as i64, r)))),
            TableRows::Text { text, delimiter } => {
                let mut rdr = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .flexible(true)
                    .delimiter(delimiter)
                    .from_reader(std::io::Cursor::new(text.into_bytes()));
                let mut n = 1i64;
                Box::new(std::iter::from_fn(move || {
                    let mut rec = csv::StringRecord::new();
                    match rdr.read_record(&mut rec) {
                        Ok(true) => {
                            n += 1;
                            Some(Ok((n, rec.iter().map(unguard).collect())))
                        }
                        Ok(false) => None,
                        Err(e) => Some(Err(bad_csv(&e))),
                    }
                }))
            }
        };
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<SealedBatch, AppError>>(2);
        let vault = self.vault.clone();
        let store = self.store.clone();
        let producer_schema = schema.clone();
        let producer_map = map.clone();
        let batch_size = opts.batch.unwrap_or(BATCH).clamp(1, 100_000);
        let dataset_id = d.id;
        let producer = tokio::task::spawn_blocking(move || {
            use rayon::prelude::*;
            let handle = tokio::runtime::Handle::current();
            let Some(v) = vault.get() else { return };
            let schema = producer_schema;
            loop {
                let mut batch: Vec<(i64, Vec<String>)> = Vec::with_capacity(batch_size);
                for r in rows_iter.by_ref() {
                    match r {
                        Ok((n, _)) if n < start_row => {}
                        Ok(row) => {
                            batch.push(row);
                            if batch.len() == batch_size {
                                break;
                            }
                        }
                        Err(e) => {
                            let _ = tx.blocking_send(Err(e));
                            return;
                        }
                    }
                }
                if batch.is_empty() {
                    return;
                }
                let first_id = match handle.block_on(store.allocate_record_ids(batch.len() as i64))
                {
                    Ok(id) => id,
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e.into()));
                        return;
                    }
                };
                let checked: Vec<Result<NewRecord, Reject>> = batch
                    .par_iter()
                    .enumerate()
                    .map(|(k, (n, cells))| {
                        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
                        match check_row(&schema, &producer_map, &cells, today) {
                            Ok(values) => seal_row(
                                v,
                                &keys,
                                &schema,
                                dataset_id,
                                date_field,
                                first_id + k as i64,
                                Some(*n),
                                &values,
                            )
                            .map_err(|e| Reject {
                                row_no: *n,
                                field: String::new(),
                                reason: e.to_string(),
                            }),
                            Err((field, reason)) => Err(Reject {
                                row_no: *n,
                                field,
                                reason,
                            }),
                        }
                    })
                    .collect();
                let mut out = SealedBatch {
                    records: Vec::with_capacity(batch.len()),
                    rejects: Vec::new(),
                    to_row: batch.last().map_or(0, |(n, _)| n + 1),
                };
                for c in checked {
                    match c {
                        Ok(r) => out.records.push(r),
                        Err(r) => out.rejects.push(r),
                    }
                }
                if tx.blocking_send(Ok(out)).is_err() {
                    return; // the writer stopped
                }
            }
        });
        let mut next_row = start_row;
        let mut stopped = false;
        while let Some(batch) = rx.recv().await {
            let batch = batch?;
            let (n_records, n_rejects) = (batch.records.len() as i64, batch.rejects.len() as i64);
            self.store
                .write_import_batch(
                    import_id,
                    d.id,
                    next_row,
                    batch.to_row,
                    batch.records,
                    batch.rejects,
                    self.clock.now_micros(),
                )
                .await?;
            next_row = batch.to_row;
            report.imported += n_records;
            report.rejected += n_rejects;
            if !progress(report.imported + report.rejected) {
                stopped = true;
                break;
            }
        }
        drop(rx);
        producer
            .await
            .map_err(|e| AppError::Internal(format!("import reader: {e}")))?;
        if stopped {
            report.stopped = true;
            self.audit(
                ctx,
                "vault.import.stop",
                &format!("dataset:{}", d.id),
                Outcome::Success,
                json!({"import": import_id, "next_row": next_row}),
            )
            .await?;
            return Ok(report);
        }
        self.store
            .finish_import(import_id, self.clock.now_micros())
            .await?;
        self.store.analyze_vault().await?;
        report.rejects = self.store.import_rejects(import_id, 100).await?;
        self.audit(
            ctx,
            "vault.import",
            &format!("dataset:{}", d.id),
            Outcome::Success,
            json!({"import": import_id, "imported": report.imported, "rejected": report.rejected}),
        )
        .await?;
        Ok(report)
    }

    /// Undoes an import: its records, their keys and index rows. Returns how many records.
    pub async fn vault_import_rollback(&self, ctx: &Ctx, import_id: i64) -> Result<u64, AppError> {
        if !ctx.allows(Permission::ManageVault) {
            return Err(self
                .denied(ctx, "vault.import.rollback", &format!("import:{import_id}"))
                .await);
        }
        let run = self.store.get_import(import_id).await?;
        let d = self.vault_dataset(ctx, run.dataset_id).await?;
        if run.status == "rolled_back" {
            return Err(AppError::invalid(
                "import",
                "この取込はすでに取り消されています",
                "this import was already rolled back",
            ));
        }
        let schema = schema_of(&d)?;
        let v = self.vault_state()?;
        let keys = v.index_keys(d.id);
        let mut after = 0;
        let mut removed = 0;
        loop {
            let rows = self.store.import_records(import_id, after, 1000).await?;
            let last = rows.last().map(|r| r.id);
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            let mut digests = Vec::new();
            for r in &rows {
                if let Ok(o) = crate::vault::open_row(v, &schema, r) {
                    let values: Vec<Option<String>> = o
                        .iter()
                        .map(|x| match x {
                            crate::vault_keys::Opened::Value(s) => Some(s.clone()),
                            _ => None,
                        })
                        .collect();
                    digests.extend(crate::vault::digests_of(&keys, &schema, &values, r.id));
                }
            }
            removed += self
                .store
                .rollback_import_batch(
                    import_id,
                    &ids,
                    &digests,
                    last.is_none(),
                    self.clock.now_micros(),
                )
                .await?;
            match last {
                Some(l) => after = l,
                None => break,
            }
        }
        self.audit(
            ctx,
            "vault.import.rollback",
            &format!("import:{import_id}"),
            Outcome::Success,
            json!({"dataset": d.id, "records": removed}),
        )
        .await?;
        Ok(removed)
    }
}
