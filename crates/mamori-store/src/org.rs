//! Companies and departments.

use crate::{one_row, Result, Store, StoreError};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Company {
    pub id: i64,
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Department {
    pub id: i64,
    pub company_id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
}

impl Store {
    pub async fn create_company(&self, code: &str, name: &str, now: i64) -> Result<i64> {
        sqlx::query_scalar(
            "INSERT INTO companies (code, name, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(code)
        .bind(name)
        .bind(now)
        .fetch_one(self.pool())
        .await
        .map_err(|e| StoreError::from_sqlx(e, "company code"))
    }

    pub async fn list_companies(&self) -> Result<Vec<Company>> {
        let rows = sqlx::query("SELECT id, code, name FROM companies ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| Company {
                id: r.get(0),
                code: r.get(1),
                name: r.get(2),
            })
            .collect())
    }

    pub async fn get_company(&self, id: i64) -> Result<Company> {
        let r = sqlx::query("SELECT id, code, name FROM companies WHERE id = $1")
            .bind(id)
            .fetch_one(self.pool())
            .await?;
        Ok(Company {
            id: r.get(0),
            code: r.get(1),
            name: r.get(2),
        })
    }

    /// The names of a department and of its company, in one round trip (for page headers).
    pub async fn department_and_company_names(
        &self,
        department_id: i64,
    ) -> Result<(String, String)> {
        let r = sqlx::query(
            "SELECT d.name, c.name FROM departments d JOIN companies c ON c.id = d.company_id \
             WHERE d.id = $1",
        )
        .bind(department_id)
        .fetch_one(self.pool())
        .await?;
        Ok((r.get(0), r.get(1)))
    }

    pub async fn create_department(
        &self,
        company_id: i64,
        parent_id: Option<i64>,
        name: &str,
        now: i64,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO departments (company_id, parent_id, name, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(company_id)
        .bind(parent_id)
        .bind(name)
        .bind(now)
        .fetch_one(self.pool())
        .await?)
    }

    pub async fn update_department(
        &self,
        id: i64,
        parent_id: Option<i64>,
        name: &str,
    ) -> Result<()> {
        one_row(
            &sqlx::query("UPDATE departments SET parent_id = $1, name = $2 WHERE id = $3")
                .bind(parent_id)
                .bind(name)
                .bind(id)
                .execute(self.pool())
                .await?,
        )
    }

    pub async fn list_departments(&self, company_id: i64) -> Result<Vec<Department>> {
        let rows = sqlx::query(
            "SELECT id, company_id, parent_id, name FROM departments \
             WHERE company_id = $1 ORDER BY id",
        )
        .bind(company_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Department {
                id: r.get(0),
                company_id: r.get(1),
                parent_id: r.get(2),
                name: r.get(3),
            })
            .collect())
    }

    pub async fn get_department(&self, id: i64) -> Result<Department> {
        let r =
            sqlx::query("SELECT id, company_id, parent_id, name FROM departments WHERE id = $1")
                .bind(id)
                .fetch_one(self.pool())
                .await?;
        Ok(Department {
            id: r.get(0),
            company_id: r.get(1),
            parent_id: r.get(2),
            name: r.get(3),
        })
    }
}
