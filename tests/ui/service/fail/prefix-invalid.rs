#[keviq::service(name = "shop", prefix = "9x_")]
fn leading_digit() -> axum::Router {
    axum::Router::new()
}

#[keviq::service(name = "shop", prefix = "shop")]
fn no_separator() -> axum::Router {
    axum::Router::new()
}

#[keviq::service(name = "shop", prefix = "shop-eu_")]
fn invalid_character() -> axum::Router {
    axum::Router::new()
}

#[keviq::service(name = "shop", prefix = "shop_counter_")]
fn type_in_name() -> axum::Router {
    axum::Router::new()
}

#[keviq::service(name = "shop", prefix = "shop_", prefix = "store_")]
fn twice() -> axum::Router {
    axum::Router::new()
}

fn main() {}
