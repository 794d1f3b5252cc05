//! Dealer analytics on polars frames: filled by the analytics issue; no web or database code lives here.
