fn main() {
    println!("baytrace: not yet");
}
