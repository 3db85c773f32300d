// A wrong option does not hide the ones after it: the rule still applies, so only
// the option errors are reported, not a collision under the default rule.
#[derive(keviq::LabelValue)]
#[label(totally_bogus(1, 2), rename_all = "lowercase", also_bogus)]
#[allow(non_camel_case_types)]
enum Transport {
    #[label(renam = "ws", rename = "socket")]
    WebSocket,
    Web_Socket,
}

fn main() {}
