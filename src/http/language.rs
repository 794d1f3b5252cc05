//! Picks the user's language for every request: `?lang=` (remembered in a
//! cookie), then the cookie, then `Accept-Language`, else Simplified Chinese.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::CookieJar;

use crate::i18n::Lang;

const LANG_COOKIE: &str = "lang";

pub async fn choose_language(mut req: Request, next: Next) -> Response {
    let asked = req
        .uri()
        .query()
        .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "lang").map(|(_, v)| v.into_owned()))
        .and_then(|code| Lang::from_code(&code));
    let remembered = CookieJar::from_headers(req.headers()).get(LANG_COOKIE).and_then(|c| Lang::from_code(c.value()));
    let accepted =
        req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(Lang::from_accept_language);
    let lang = asked.or(remembered).or(accepted).unwrap_or_default();
    req.extensions_mut().insert(lang);
    let mut response = next.run(req).await;
    if let Some(lang) = asked {
        let cookie = format!("{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.code());
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}
