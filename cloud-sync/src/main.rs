fn main() {
    eprintln!("baytrace-cloud: not yet built (sync and the cloud arrive with issue 4)");
    std::process::exit(2);
}
